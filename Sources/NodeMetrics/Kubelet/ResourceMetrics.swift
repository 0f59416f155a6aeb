/// The kubelet's `/metrics/resource` (what metrics-server scrapes) written from a KubeletView: the
/// kubelet's families, HELP texts with their stability prefix, labels `container`, `namespace`, `pod`
/// in that order, and sample timestamps equal to the sample's time, so a scrape without new
/// housekeeping repeats the timestamp (metrics-server then keeps its previous point). A point whose
/// CPU or working set is 0 is left out: metrics-server drops a whole pod for one such container.
public enum ResourceMetrics {
    struct Family {
        let name: String
        let help: String
        let type: PrometheusMetricType
    }

    static let families: [String: Family] = {
        let list: [Family] = [
            .init(name: "container_cpu_usage_seconds_total", help: "[STABLE] Cumulative cpu time consumed by the container in core-seconds", type: .counter),
            .init(name: "container_memory_working_set_bytes", help: "[STABLE] Current working set of the container in bytes", type: .gauge),
            .init(name: "container_start_time_seconds", help: "[STABLE] Start time of the container since unix epoch in seconds", type: .gauge),
            .init(name: "container_swap_usage_bytes", help: "[ALPHA] Current amount of the container swap usage in bytes. Reported only on non-windows systems", type: .gauge),
            .init(name: "node_cpu_usage_seconds_total", help: "[STABLE] Cumulative cpu time consumed by the node in core-seconds", type: .counter),
            .init(name: "node_memory_working_set_bytes", help: "[STABLE] Current working set of the node in bytes", type: .gauge),
            .init(name: "node_swap_usage_bytes", help: "[ALPHA] Current swap usage of the node in bytes. Reported only on non-windows systems", type: .gauge),
            .init(name: "pod_cpu_usage_seconds_total", help: "[STABLE] Cumulative cpu time consumed by the pod in core-seconds", type: .counter),
            .init(name: "pod_memory_working_set_bytes", help: "[STABLE] Current working set of the pod in bytes", type: .gauge),
            .init(name: "pod_swap_usage_bytes", help: "[ALPHA] Current amount of the pod swap usage in bytes. Reported only on non-windows systems", type: .gauge),
            .init(name: "resource_scrape_error", help: "[STABLE] 1 if there was an error while getting container metrics, 0 otherwise", type: .gauge),
            .init(name: "scrape_error", help: "[ALPHA] (Deprecated since 1.29.0) 1 if there was an error while getting container metrics, 0 otherwise", type: .gauge),
        ]
        return Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
    }()

    /// The exposition; the scrape-error gauges are 1 while the store has no root sample yet.
    public static func text(_ view: KubeletView) -> [UInt8] {
        var w = PrometheusTextWriter(capacity: 4096 + view.pods.count * 1024)
        func millis(_ s: ContainerSample) -> Int64 { s.timestampNanos / 1_000_000 }
        var series: [String: [(labels: [(String, String)], value: Double, ts: Int64?)]] = [:]
        func add(_ family: String, _ labels: [(String, String)], _ value: Double, _ ts: Int64?) {
            series[family, default: []].append((labels, value, ts))
        }
        for pod in view.pods {
            for c in pod.containers {
                guard let s = c.snapshot.samples.last else { continue }
                let labels = [("container", c.name), ("namespace", pod.namespace), ("pod", pod.name)]
                if s.cpu.usage.total > 0 { add("container_cpu_usage_seconds_total", labels, Double(s.cpu.usage.total) / 1e9, millis(s)) }
                if s.memory.workingSet > 0 { add("container_memory_working_set_bytes", labels, Double(s.memory.workingSet), millis(s)) }
                if c.snapshot.creationTimeNanos > 0 {
                    add("container_start_time_seconds", labels, Double(c.snapshot.creationTimeNanos) / 1e9, nil)
                }
                add("container_swap_usage_bytes", labels, Double(s.memory.swap), millis(s))
            }
            if let s = pod.cgroup?.samples.last {
                let labels = [("namespace", pod.namespace), ("pod", pod.name)]
                if s.cpu.usage.total > 0 { add("pod_cpu_usage_seconds_total", labels, Double(s.cpu.usage.total) / 1e9, millis(s)) }
                if s.memory.workingSet > 0 { add("pod_memory_working_set_bytes", labels, Double(s.memory.workingSet), millis(s)) }
                add("pod_swap_usage_bytes", labels, Double(s.memory.swap), millis(s))
            }
        }
        let root = view.root?.samples.last
        if let s = root {
            add("node_cpu_usage_seconds_total", [], Double(s.cpu.usage.total) / 1e9, millis(s))
            add("node_memory_working_set_bytes", [], Double(s.memory.workingSet), millis(s))
            add("node_swap_usage_bytes", [], Double(s.memory.swap), millis(s))
        }
        add("resource_scrape_error", [], root == nil ? 1 : 0, nil)
        add("scrape_error", [], root == nil ? 1 : 0, nil)
        for (name, samples) in series.sorted(by: { $0.key < $1.key }) {
            guard let family = families[name] else { continue }
            w.header(name, help: family.help, type: family.type)
            for s in samples { w.sample(name, labels: s.labels, value: s.value, timestampMillis: s.ts) }
        }
        return w.bytes
    }
}
