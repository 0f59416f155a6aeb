import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How /metrics labels container series.
public enum ContainerLabelMode: String, Sendable, CaseIterable {
    /// cAdvisor's: `id`, `name`, `image`, `container_label_*`, `container_env_*` (the union over containers).
    case cadvisor
    /// The kubelet's /metrics/cadvisor: `id`, `name`, `image`, `pod`, `namespace`, `container`.
    case kubernetes
}

/// What /metrics exports and how.
public struct MetricsConfiguration: Sendable {
    public var labelMode = ContainerLabelMode.cadvisor
    /// Explicit sample timestamps as cAdvisor writes them (off: cadvisor#2526).
    public var timestamps = true
    /// `-store_container_labels`: every runtime label becomes a `container_label_*` label; when false
    /// only `whitelistedLabels` do.
    public var storeContainerLabels = true
    /// `-whitelisted_container_labels`.
    public var whitelistedLabels: Set<String> = []
    /// Which containers are exported (`-metrics_namespaces`, `-metrics_label_selector`).
    public var filter = MetricsFilter()
    public init() {}
}

/// Writes the Prometheus exposition of the manager's store: cAdvisor's container and machine
/// collectors, `cadvisor_version_info` and the agent's own `process_*`. Each scrape reads the
/// newest sample of every container and writes the text straight into one buffer — no registry.
public final class PrometheusExporter: Sendable {
    public let manager: ContainerManager
    public let configuration: MetricsConfiguration
    /// The runtime integrations (Docker's version for `cadvisor_version_info`).
    public let runtimes: RuntimeMetadata?
    /// The previous scrape's size: the next buffer starts that large.
    private let lastSize = Atomic<Int>(1 << 16)

    public init(manager: ContainerManager, configuration: MetricsConfiguration = MetricsConfiguration(),
                runtimes: RuntimeMetadata? = nil) {
        self.manager = manager
        self.runtimes = runtimes
        self.configuration = configuration
    }

    /// One scrape. `filter` narrows the configured filter (a scrape's query parameters).
    public func scrape(filter extra: MetricsFilter? = nil) -> [UInt8] {
        var sink = MetricSeriesSink(writer: PrometheusTextWriter(capacity: lastSize.load(ordering: .relaxed) + 4096))
        write(&sink, filter: extra)
        lastSize.store(sink.writer.bytes.count, ordering: .relaxed)
        return sink.writer.bytes
    }

    /// The series of a scrape handed to `receiver` as values, in the text's order, without writing
    /// or formatting any text (remote write).
    func collect(into receiver: SeriesReceiver) {
        var sink = MetricSeriesSink(writer: PrometheusTextWriter(capacity: 0))
        withExtendedLifetime(receiver) {
            sink.receiver = Unmanaged.passUnretained(receiver)
            write(&sink, filter: nil)
        }
    }

    /// Every series of a scrape into `sink`, in exposition order.
    private func write(_ sink: inout MetricSeriesSink, filter extra: MetricsFilter?) {
        let now = Double(Clocks.wallNanos()) / 1e9
        let kinds = manager.configuration.metricKinds
        let machine = manager.machineInfo

        writeVersionInfo(machine, &sink)

        // Containers: newest sample, filtered, with their label values.
        let deviceName = machine.deviceNamer()
        var views: [ContainerView] = []
        for name in manager.store.names {
            guard let snap = manager.store.snapshot(name, count: 1), let sample = snap.samples.last else { continue }
            guard configuration.filter.admits(snap.metadata), extra?.admits(snap.metadata) ?? true else { continue }
            views.append(ContainerView(snapshot: snap, sample: sample, deviceName: deviceName, now: now))
        }
        let (schema, values) = labels(views)
        sink.subjects(values, schema: schema)
        let order = views.indices.sorted { values[$0].lexicographicallyPrecedes(values[$1]) { $0.lexicographicallyPrecedes($1) } }
        // The views in that order, unretained (`views` holds them): no reference count per family.
        let ordered = order.map { (index: $0, view: Unmanaged.passUnretained(views[$0])) }

        let failures = manager.sampleFailures
        // As cAdvisor: 1 when getting some container's metrics failed (here: a kept container's
        // latest sample failed, or a sample failed in the last minute).
        let scrapeError = failures.anyRecent(now: Clocks.monotonicNanos())
        var scrapeErrorWritten = false
        func writeScrapeError(_ w: inout MetricSeriesSink) {
            w.header("container_scrape_error", help: "1 if there was an error while getting container metrics, 0 otherwise",
                     type: .gauge)
            w.sample("container_scrape_error", value: scrapeError ? 1 : 0)
            scrapeErrorWritten = true
        }
        withExtendedLifetime(views) { // `ordered` does not retain them
            for family in ContainerFamily.all {
                if !scrapeErrorWritten && family.name > "container_scrape_error" { writeScrapeError(&sink) }
                if let kind = family.kind, !kinds.contains(kind) { continue }
                sink.begin(family: family.name, help: family.help, type: family.type, extra: family.extraLabels, schema: schema)
                let values = family.values, condition = family.condition
                let lastSeen = family.name == "container_last_seen", stamped = configuration.timestamps && family.timestamped
                for (i, unretained) in ordered {
                    unretained._withUnsafeGuaranteedRef { view in
                        if let condition, !condition(view) { return }
                        sink.current = i
                        sink.timestampMillis = !stamped ? nil : lastSeen ? Int64(now * 1000) : view.sample.timestampNanos / 1_000_000
                        values(view, &sink)
                    }
                }
            }
        }
        if !scrapeErrorWritten { writeScrapeError(&sink) }

        // Machine.
        let machineLabels = [machine.bootID, machine.machineID, machine.systemUUID].map(PrometheusTextWriter.escapeLabelValue)
        for family in MachineFamily.all {
            if let kind = family.kind, !kinds.contains(kind) { continue }
            let bare = family.name == "machine_scrape_error" // no labels, no timestamp
            sink.begin(family: family.name, help: family.help, type: .gauge, extra: family.extraLabels,
                       schema: bare ? LabelSchema(names: []) : MachineFamily.schema)
            sink.subjects([bare ? [] : machineLabels], schema: bare ? LabelSchema(names: []) : MachineFamily.schema)
            sink.timestampMillis = bare || !configuration.timestamps ? nil : machine.timestampNanos / 1_000_000
            family.values(machine, &sink)
        }

        Self.writeSampleFailures(failures, &sink) // node_metrics_* sorts before process_*
        let pushed = (manager.configuration.backends?.statuses ?? []) + manager.configuration.pushStatus.statuses
        if !pushed.isEmpty {
            Self.writeStorage(pushed, &sink)
        }
        AgentProcessMetrics.write(&sink)
    }

    /// Beyond cAdvisor: what each storage driver (`-storage_driver`) sent, dropped, failed to send
    /// and holds now.
    static func writeStorage(_ statuses: [StorageDriverStatus], _ w: inout MetricSeriesSink) {
        w.header("node_metrics_storage_buffered_samples", help: "Samples waiting in a storage driver's buffer (the batch being sent included).", type: .gauge)
        for s in statuses { w.sample("node_metrics_storage_buffered_samples", labels: [("driver", s.name)], value: Double(s.buffered)) }
        w.header("node_metrics_storage_dropped_samples_total", help: "Samples a storage driver dropped unsent (its buffer was full or they were older than -storage_driver_buffer_duration).", type: .counter)
        for s in statuses { w.sample("node_metrics_storage_dropped_samples_total", labels: [("driver", s.name)], value: Double(s.dropped)) }
        w.header("node_metrics_storage_send_errors_total", help: "Writes a storage driver's backend did not take (each is retried with backoff).", type: .counter)
        for s in statuses { w.sample("node_metrics_storage_send_errors_total", labels: [("driver", s.name)], value: Double(s.sendErrors)) }
        w.header("node_metrics_storage_sent_samples_total", help: "Samples a storage driver's backend took.", type: .counter)
        for s in statuses { w.sample("node_metrics_storage_sent_samples_total", labels: [("driver", s.name)], value: Double(s.sent)) }
    }

    /// Beyond cAdvisor: failed container samples by reason since start, and how many kept
    /// containers' latest sample failed (every reason is written, 0 included, so rates work).
    static func writeSampleFailures(_ failures: SampleFailures, _ w: inout MetricSeriesSink) {
        w.header("node_metrics_container_sample_failures_total",
                 help: "Container samples that failed since start, by reason (gone: the cgroup vanished while it was read; read_error: its files could not be read).",
                 type: .counter)
        for reason in Set(["gone", "read_error"]).union(failures.counts.keys).sorted() {
            w.sample("node_metrics_container_sample_failures_total", labels: [("reason", reason)],
                     value: Double(failures.counts[reason] ?? 0))
        }
        w.header("node_metrics_containers_failing", help: "Containers whose latest sample failed.", type: .gauge)
        w.sample("node_metrics_containers_failing", value: Double(failures.failing.count))
    }

    private func writeVersionInfo(_ machine: MachineInfo, _ w: inout MetricSeriesSink) {
        w.header("cadvisor_version_info",
                 help: "A metric with a constant '1' value labeled by kernel version, OS version, docker version, cadvisor version & cadvisor revision.",
                 type: .gauge)
        w.sample("cadvisor_version_info", labels: [("cadvisorRevision", AgentVersion.revision),
                                                   ("cadvisorVersion", AgentVersion.current),
                                                   ("dockerVersion", runtimes?.dockerVersion ?? ""),
                                                   ("kernelVersion", machine.kernelVersion),
                                                   ("osVersion", machine.containerOSVersion)], value: 1)
    }

    /// `[^a-zA-Z0-9_]` → `_`, as cAdvisor sanitises label names.
    static func sanitize(_ name: String) -> String {
        String(decoding: name.utf8.map { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F ? b : 0x5F
        }, as: UTF8.self)
    }

    /// The label schema of this scrape and each container's escaped values in schema order. In
    /// cAdvisor mode the schema is the union of every container's label names; a container without
    /// a label gets "". When two raw names sanitise alike, the first in sorted order wins.
    func labels(_ views: [ContainerView]) -> (LabelSchema, [[[UInt8]]]) {
        var perContainer: [[String: String]] = []
        perContainer.reserveCapacity(views.count)
        var names: Set<String> = []
        for v in views {
            let m = v.snapshot.metadata
            var set: [String: String] = ["id": v.snapshot.name, "name": m.aliases.first ?? "", "image": m.image]
            switch configuration.labelMode {
            case .kubernetes:
                set["pod"] = m.podName
                set["namespace"] = m.podNamespace
                set["container"] = m.containerName
            case .cadvisor:
                for k in m.labels.keys.sorted() where configuration.storeContainerLabels || configuration.whitelistedLabels.contains(k) {
                    let key = "container_label_" + Self.sanitize(k)
                    if set[key] == nil { set[key] = m.labels[k] }
                }
                for k in m.env.keys.sorted() {
                    let key = "container_env_" + Self.sanitize(k)
                    if set[key] == nil { set[key] = m.env[k] }
                }
            }
            names.formUnion(set.keys)
            perContainer.append(set)
        }
        let schema = LabelSchema(names: Array(names))
        let values = perContainer.map { set in schema.names.map { PrometheusTextWriter.escapeLabelValue(set[$0] ?? "") } }
        return (schema, values)
    }
}
