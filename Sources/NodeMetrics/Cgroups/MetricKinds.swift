import CCgroupFast

/// cAdvisor's metric kinds (`-enable_metrics` / `-disable_metrics`). A kind that is off is not read at all.
public enum MetricKind: String, Sendable, CaseIterable {
    case cpu, sched, percpu, memory
    case memoryNuma = "memory_numa"
    case cpuLoad, diskIO, disk, network, tcp, advtcp, udp, app, process, hugetlb
    case perfEvent = "perf_event"
    case referencedMemory = "referenced_memory"
    case cpuTopology = "cpu_topology"
    case resctrl, cpuset
    case oomEvent = "oom_event"
    case pressure
    /// cAdvisor v0.36's GPU kind (NVML): accepted; there is no GPU collector.
    case accelerator
}

/// The set of enabled metric kinds.
public struct MetricKinds: Sendable, Equatable {
    public var enabled: Set<MetricKind>

    /// cAdvisor's default `-disable_metrics`.
    public static let defaultDisabled: Set<MetricKind> = [.advtcp, .cpuTopology, .cpuset, .hugetlb, .memoryNuma,
                                                           .process, .referencedMemory, .resctrl, .sched, .tcp, .udp]
    /// Kinds accepted for cAdvisor's command lines that have no collector here: off unless named in
    /// `-enable_metrics` (then the agent warns at start; `uncollected`), never turned on by leaving
    /// them out of `-disable_metrics`.
    public static let withoutCollector: Set<MetricKind> = [.accelerator, .app, .cpuLoad, .perfEvent, .resctrl]
    public static let defaults = MetricKinds(enabled: Set(MetricKind.allCases).subtracting(defaultDisabled)
        .subtracting(withoutCollector))
    public static let all = MetricKinds(enabled: Set(MetricKind.allCases))

    public init(enabled: Set<MetricKind>) { self.enabled = enabled }

    public struct UnknownKind: Error, CustomStringConvertible, Equatable {
        public var flag: String
        public var kind: String
        public var description: String {
            "-\(flag): unknown metric kind \"\(kind)\" (known: \(MetricKind.allCases.map(\.rawValue).joined(separator: ", ")))"
        }
    }

    /// As cAdvisor: a non-empty `enable` list is the whole set; otherwise everything but `disable`
    /// (nil `disable` means cAdvisor's default list).
    public static func parse(enable: String, disable: String?) throws(UnknownKind) -> MetricKinds {
        func kinds(_ list: String, _ flag: String) throws(UnknownKind) -> Set<MetricKind> {
            var out = Set<MetricKind>()
            for raw in list.split(separator: ",") {
                let name = raw.trimmed
                if name.isEmpty { continue }
                guard let kind = MetricKind(rawValue: name) else { throw UnknownKind(flag: flag, kind: name) }
                out.insert(kind)
            }
            return out
        }
        let enabled = try kinds(enable, "enable_metrics")
        if !enabled.isEmpty { return MetricKinds(enabled: enabled) }
        let disabled = try disable.map { list throws(UnknownKind) in try kinds(list, "disable_metrics") } ?? defaultDisabled
        return MetricKinds(enabled: Set(MetricKind.allCases).subtracting(disabled).subtracting(withoutCollector))
    }

    /// The enabled kinds that have no collector, with what to tell the operator about each.
    public var uncollected: [(kind: MetricKind, reason: String)] {
        enabled.intersection(Self.withoutCollector).sorted { $0.rawValue < $1.rawValue }.map { kind in
            switch kind {
            case .accelerator: (kind, "there is nothing to collect without a GPU collector (NVML is not built)")
            case .app: (kind, "application metrics (collector configs in container labels) are not built")
            case .cpuLoad: (kind, "the netlink CPU load reader is not built")
            case .perfEvent: (kind, "perf events (libpfm4) are not built")
            default: (kind, "resctrl monitoring is not built")
            }
        }
    }

    public func contains(_ kind: MetricKind) -> Bool { enabled.contains(kind) }

    /// The C core's sample mask: which cgroup files are opened and read.
    var sampleMask: UInt32 {
        func bits(_ files: [cgf_sample_file]) -> UInt32 { files.reduce(0) { $0 | (1 << $1.rawValue) } }
        var mask: UInt32 = 0
        if contains(.cpu) { mask |= bits([CGF_F_CPU_USAGE, CGF_F_CPU_ACCT_STAT, CGF_F_CPU_STAT]) }
        if contains(.percpu) { mask |= bits([CGF_F_CPU_USAGE_PERCPU]) }
        if contains(.memory) {
            mask |= bits([CGF_F_MEMORY_USAGE, CGF_F_MEMORY_MAX_USAGE, CGF_F_MEMORY_FAILCNT, CGF_F_MEMORY_KMEM_USAGE,
                          CGF_F_MEMORY_SWAP, CGF_F_MEMORY_STAT, CGF_F_MEMORY_EVENTS])
        }
        if contains(.diskIO) { mask |= bits([CGF_F_IO_SERVICE_BYTES, CGF_F_IO_SERVICED, CGF_F_IO_STAT]) }
        if contains(.process) { mask |= bits([CGF_F_PIDS_CURRENT, CGF_F_PIDS_MAX]) }
        if contains(.pressure) { mask |= bits([CGF_F_CPU_PRESSURE, CGF_F_MEMORY_PRESSURE, CGF_F_IO_PRESSURE]) }
        if contains(.hugetlb) { mask |= UInt32(CGF_MASK_HUGETLB) }
        return mask
    }
}

extension CgroupHierarchy {
    /// Cgroups opened from now on read only the files of these kinds.
    public func restrict(to kinds: MetricKinds) {
        cgf_hierarchy_set_sample_mask(raw, kinds.sampleMask)
    }
}
