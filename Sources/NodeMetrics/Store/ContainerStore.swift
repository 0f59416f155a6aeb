import Synchronization

/// What the store keeps about one container, as readers see it: an immutable snapshot.
public struct ContainerSnapshot: Sendable {
    public var name: String
    public var spec: CgroupSpec
    /// Nanoseconds since the epoch.
    public var creationTimeNanos: Int64
    /// Oldest first.
    public var samples: [ContainerSample]
    public var derived: DerivedStats
    public var oomEvents: UInt64
    /// What the runtime knows (empty for raw cgroups).
    public var metadata: ContainerMetadata
}

/// The in-memory history: per container a ring of samples bounded by `storage_duration` and a count,
/// and the summary state. The sampler appends; readers take snapshots. Each container has its own
/// lock, held only to append or copy, so readers never wait on sampling and never see half a sample.
public final class ContainerStore: Sendable {
    /// Bounds of every container's ring.
    public struct Limits: Sendable {
        /// Nanoseconds (`storage_duration`, default 2 m).
        public var maxAge: Int64
        public var maxCount: Int
        public init(maxAge: Duration = .seconds(120), maxCount: Int = 512) {
            self.maxAge = maxAge.nanoseconds
            self.maxCount = maxCount
        }
    }

    final class Record: Sendable {
        struct State {
            var spec: CgroupSpec
            var ring: SampleRing<ContainerSample>
            var summary = SummaryBuilder()
            var oomEvents: UInt64 = 0
            var metadata = ContainerMetadata()
            var layerUsage: FilesystemStats?
            var kubeletDisk: KubeletDiskUsage?
        }
        let name: String
        let creationTimeNanos: Int64
        let state: Mutex<State>

        init(name: String, spec: CgroupSpec, creationTimeNanos: Int64, limits: Limits) {
            self.name = name
            self.creationTimeNanos = creationTimeNanos
            state = Mutex(State(spec: spec, ring: SampleRing(capacity: limits.maxCount, maxAge: limits.maxAge,
                                                              timestamp: { $0.timestampNanos })))
        }
    }

    public let limits: Limits
    private let records = Mutex<[String: Record]>([:])

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Starts keeping a container (no-op when known).
    public func add(_ name: String, spec: CgroupSpec, creationTimeNanos: Int64) {
        records.withLock { r in
            if r[name] == nil {
                r[name] = Record(name: name, spec: spec, creationTimeNanos: creationTimeNanos, limits: limits)
            }
        }
    }

    public func remove(_ name: String) {
        _ = records.withLock { $0.removeValue(forKey: name) }
    }

    private func record(_ name: String) -> Record? { records.withLock { $0[name] } }

    /// Appends a sample; its memory.stat key list is not kept (the derived values are). Returns
    /// whether its stats differ from the previous sample's (cAdvisor's StatsEq, timestamp aside),
    /// which drives dynamic housekeeping; true for the first sample and for unknown containers. A
    /// sample not newer than the newest is dropped (false).
    @discardableResult
    public func append(_ name: String, sample: ContainerSample) -> Bool {
        guard let record = record(name) else { return true }
        var s = sample
        if !s.memoryStat.isEmpty { s.memoryStat = [] }
        return record.state.withLock { state in
            var changed = true
            if let previous = state.ring.newest {
                // An on-demand refresh and housekeeping can race; history stays in time order.
                guard s.timestampNanos > previous.timestampNanos else { return false }
                s.shareStorage(with: previous) // shared parts then compare by identity
                changed = !s.sameStats(as: previous)
            }
            state.ring.append(s)
            state.summary.add(timestamp: s.timestampNanos, cpuTotal: s.cpu.usage.total, workingSet: s.memory.workingSet)
            return changed
        }
    }

    /// Counts an OOM event of the container (container_oom_events_total).
    public func recordOOM(_ name: String) {
        record(name)?.state.withLock { $0.oomEvents += 1 }
    }

    public func updateSpec(_ name: String, spec: CgroupSpec) {
        record(name)?.state.withLock { $0.spec = spec }
    }

    /// Sets what a runtime knows about a container.
    public func updateMetadata(_ name: String, _ metadata: ContainerMetadata) {
        record(name)?.state.withLock { $0.metadata = metadata }
    }

    /// Sets the measured usage of a runtime container's writable layer (LayerUsage).
    public func updateLayerUsage(_ name: String, _ usage: FilesystemStats) {
        record(name)?.state.withLock { $0.layerUsage = usage }
    }

    /// The last measured usage of a runtime container's writable layer; nil when not measured.
    public func layerUsage(_ name: String) -> FilesystemStats? {
        record(name)?.state.withLock { $0.layerUsage }
    }

    /// Sets the kubelet's view of a container's disk use: its writable layer (rootfs) and logs.
    public func updateKubeletDisk(_ name: String, _ usage: KubeletDiskUsage) {
        record(name)?.state.withLock { $0.kubeletDisk = usage }
    }

    /// The last measured rootfs and logs of a container as the kubelet reports them; nil when not measured.
    public func kubeletDisk(_ name: String) -> KubeletDiskUsage? {
        record(name)?.state.withLock { $0.kubeletDisk }
    }

    /// The names of all containers, sorted.
    public var names: [String] { records.withLock { Array($0.keys) }.sorted() }

    public var count: Int { records.withLock { $0.count } }

    public func contains(_ name: String) -> Bool { record(name) != nil }

    /// What the runtime knows about a container.
    public func metadata(_ name: String) -> ContainerMetadata? {
        record(name)?.state.withLock { $0.metadata }
    }

    /// The newest sample of a container.
    public func latest(_ name: String) -> ContainerSample? {
        record(name)?.state.withLock { $0.ring.newest }
    }

    /// A container's spec and newest `count` samples (all when nil), optionally within [start, end].
    public func snapshot(_ name: String, count: Int? = nil, start: Int64? = nil, end: Int64? = nil) -> ContainerSnapshot? {
        guard let record = record(name) else { return nil }
        return record.state.withLock { s in
            ContainerSnapshot(name: record.name, spec: s.spec, creationTimeNanos: record.creationTimeNanos,
                              samples: s.ring.elements(limit: count, start: start, end: end),
                              derived: s.summary.derived, oomEvents: s.oomEvents, metadata: s.metadata)
        }
    }
}
