/// One pressure (PSI) line: stall percentages over 10/60/300 s and total stall time.
public struct PressureData: Sendable, Equatable {
    /// Total stall time in microseconds.
    public var total: UInt64 = 0
    public var avg10: Double = 0
    public var avg60: Double = 0
    public var avg300: Double = 0
    public init() {}
}

/// The `some` and `full` lines of a pressure file.
public struct PressureStats: Sendable, Equatable {
    public var some = PressureData()
    public var full = PressureData()
    public init() {}
}

/// CPU usage in nanoseconds, as cAdvisor's `cpu.usage`.
public struct CPUUsage: Sendable, Equatable {
    public var total: UInt64 = 0
    /// Per-CPU usage (cgroup v1 only: v2 has no per-CPU cgroup usage).
    public var perCPU: [UInt64] = []
    public var user: UInt64 = 0
    public var system: UInt64 = 0
    public init() {}
}

/// CFS bandwidth statistics, as cAdvisor's `cpu.cfs`.
public struct CFSStats: Sendable, Equatable {
    public var periods: UInt64 = 0
    public var throttledPeriods: UInt64 = 0
    /// Nanoseconds.
    public var throttledTime: UInt64 = 0
    public var burstsPeriods: UInt64 = 0
    /// Nanoseconds.
    public var burstTime: UInt64 = 0
    public init() {}
}

/// A container's CPU sample.
public struct CPUSample: Sendable, Equatable {
    public var usage = CPUUsage()
    public var cfs = CFSStats()
    public init() {}

    mutating func shareStorage(with previous: CPUSample) {
        if usage.perCPU == previous.usage.perCPU { usage.perCPU = previous.usage.perCPU }
    }
}

/// memory.events of cgroup v2.
public struct MemoryEvents: Sendable, Equatable {
    public var low: UInt64 = 0
    public var high: UInt64 = 0
    public var max: UInt64 = 0
    public var oom: UInt64 = 0
    public var oomKill: UInt64 = 0
    public init() {}
}

/// A container's memory sample in bytes, with cAdvisor's derived values.
public struct MemorySample: Sendable, Equatable {
    public var usage: UInt64 = 0
    public var maxUsage: UInt64 = 0
    public var cache: UInt64 = 0
    public var rss: UInt64 = 0
    public var swap: UInt64 = 0
    public var mappedFile: UInt64 = 0
    /// usage − inactive file, floored at 0 (the value behind kubectl top).
    public var workingSet: UInt64 = 0
    public var totalActiveFile: UInt64 = 0
    public var totalInactiveFile: UInt64 = 0
    public var fileDirty: UInt64 = 0
    public var fileWriteback: UInt64 = 0
    public var pgscan: UInt64 = 0
    public var pgsteal: UInt64 = 0
    public var workingsetRefaultFile: UInt64 = 0
    public var workingsetRefaultAnon: UInt64 = 0
    public var failcnt: UInt64 = 0
    public var kernelUsage: UInt64 = 0
    /// v1 memory.memsw.usage_in_bytes (memory + swap).
    public var memswUsage: UInt64 = 0
    /// This cgroup's own page faults (cAdvisor's `container_data`).
    public var pgfault: UInt64 = 0
    public var pgmajfault: UInt64 = 0
    /// Including descendants (cAdvisor's `hierarchical_data`).
    public var hierarchicalPgfault: UInt64 = 0
    public var hierarchicalPgmajfault: UInt64 = 0
    public init() {}

    public static func == (a: MemorySample, b: MemorySample) -> Bool {
        a.usage == b.usage && a.maxUsage == b.maxUsage && a.cache == b.cache && a.rss == b.rss
            && a.swap == b.swap && a.mappedFile == b.mappedFile && a.workingSet == b.workingSet
            && a.totalActiveFile == b.totalActiveFile && a.totalInactiveFile == b.totalInactiveFile
            && a.fileDirty == b.fileDirty && a.fileWriteback == b.fileWriteback && a.pgscan == b.pgscan
            && a.pgsteal == b.pgsteal && a.workingsetRefaultFile == b.workingsetRefaultFile
            && a.workingsetRefaultAnon == b.workingsetRefaultAnon && a.failcnt == b.failcnt
            && a.kernelUsage == b.kernelUsage && a.memswUsage == b.memswUsage && a.pgfault == b.pgfault
            && a.pgmajfault == b.pgmajfault && a.hierarchicalPgfault == b.hierarchicalPgfault
            && a.hierarchicalPgmajfault == b.hierarchicalPgmajfault
    }
}

/// One block device's counters under cAdvisor's operation names (`Read`, `Write`, `Sync`, `Async`,
/// `Discard`, `Total`, or `Count` for the io_cost tables). Stored inline: no heap per device.
public struct DiskDeviceStats: Sendable, Equatable {
    public static let operations = ["Read", "Write", "Sync", "Async", "Discard", "Total", "Count"]
    public var major: UInt32
    public var minor: UInt32
    /// Bit i set: `values[i]` (operation `operations[i]`) was in the file.
    public var present: UInt8 = 0
    public var values: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0)

    public init(major: UInt32, minor: UInt32) {
        self.major = major
        self.minor = minor
    }

    /// The value of `operations[i]`, nil when the file did not have it (or `i` is out of range).
    public subscript(operation i: Int) -> UInt64? {
        guard i >= 0, i < Self.operations.count, present & (1 << i) != 0 else { return nil }
        return withUnsafeBytes(of: values) { $0.load(fromByteOffset: i * 8, as: UInt64.self) }
    }

    public init(major: UInt32, minor: UInt32, stats: [String: UInt64]) {
        self.init(major: major, minor: minor)
        for (op, v) in stats { self[op] = v }
    }

    /// The value of an operation, nil when the file did not have it.
    public subscript(op: String) -> UInt64? {
        get { Self.operations.firstIndex(of: op).flatMap { self[operation: $0] } }
        set {
            guard let i = Self.operations.firstIndex(of: op) else { return }
            if let newValue {
                withUnsafeMutableBytes(of: &values) { $0.storeBytes(of: newValue, toByteOffset: i * 8, as: UInt64.self) }
                present |= 1 << i
            } else {
                present &= ~(1 << i)
            }
        }
    }

    /// The present operations and values, as cAdvisor's `stats` map.
    public var stats: [String: UInt64] {
        var out: [String: UInt64] = [:]
        for op in Self.operations { if let v = self[op] { out[op] = v } }
        return out
    }

    public static func == (a: DiskDeviceStats, b: DiskDeviceStats) -> Bool {
        a.major == b.major && a.minor == b.minor && a.stats == b.stats
    }
}

/// A container's block I/O sample, in cAdvisor's tables.
public struct DiskIOSample: Sendable, Equatable {
    public var ioServiceBytes: [DiskDeviceStats] = []
    public var ioServiced: [DiskDeviceStats] = []
    public var ioCostUsage: [DiskDeviceStats] = []
    public var ioCostWait: [DiskDeviceStats] = []
    public var ioCostIndebt: [DiskDeviceStats] = []
    public var ioCostIndelay: [DiskDeviceStats] = []
    public var pressure: PressureStats?
    public init() {}
}

/// pids.current and pids.max (0 when unlimited).
public struct PidsSample: Sendable, Equatable {
    public var current: UInt64 = 0
    public var max: UInt64 = 0
    public init() {}
}

/// One huge page size's usage.
public struct HugetlbSample: Sendable, Equatable {
    /// cAdvisor's key: "2Mi", "1Gi" (the kernel's "2MB", "1GB").
    public var pageSize: String
    public var usage: UInt64 = 0
    public var maxUsage: UInt64 = 0
    public var failcnt: UInt64 = 0
    public init(pageSize: String) { self.pageSize = pageSize }
}

/// A file of the sample that could not be read or parsed; the rest of the sample is valid.
public struct SampleFileError: Sendable, Equatable, CustomStringConvertible {
    /// The kernel file's name (`memory.stat`).
    public var file: String
    /// What went wrong (`malformed content`, `number out of range`, ...).
    public var reason: String
    public var description: String { "\(file): \(reason)" }
}

/// Everything one housekeeping pass reads for one cgroup. The counters that move on every pass are
/// inline; everything else lives in one shared box (`Parts`), so a sample is small and consecutive
/// samples can share what did not change.
public struct ContainerSample: Sendable, Equatable {
    /// Wall-clock time of the read, nanoseconds since the Unix epoch.
    public var timestampNanos: Int64 = 0
    public var cpu = CPUSample()
    public var memory = MemorySample()
    public var pids = PidsSample()

    /// The parts of a sample kept out of line.
    struct Parts: Sendable, Equatable {
        var cpuPressure: PressureStats?
        var memoryPressure: PressureStats?
        var memoryEvents = MemoryEvents()
        var memoryStat: [(key: String, value: UInt64)] = []
        var diskIO = DiskIOSample()
        var hugetlb: [HugetlbSample] = []
        var network: [NetInterfaceStats] = []
        var processes: ProcessStats?
        var connections: ConnectionStats?
        var filesystems: [FilesystemStats] = []
        var schedstat = CPUSchedstat()
        var numa = NumaMemory()
        var referencedBytes: UInt64 = 0
        var memoryMigrate: UInt64 = 0
        var errors: [SampleFileError] = []

        static func == (a: Parts, b: Parts) -> Bool {
            a.cpuPressure == b.cpuPressure && a.memoryPressure == b.memoryPressure && a.memoryEvents == b.memoryEvents
                && a.memoryStat.elementsEqual(b.memoryStat, by: { $0 == $1 }) && a.diskIO == b.diskIO
                && a.hugetlb == b.hugetlb && a.network == b.network && a.processes == b.processes
                && a.connections == b.connections && a.filesystems == b.filesystems && a.schedstat == b.schedstat
                && a.numa == b.numa && a.referencedBytes == b.referencedBytes && a.memoryMigrate == b.memoryMigrate
                && a.errors == b.errors
        }
    }
    @Indirect var parts = Parts()

    public init() {}

    /// cpu.pressure (v2, or the cgroup2 mount of a hybrid host); nil when not available.
    public var cpuPressure: PressureStats? {
        get { parts.cpuPressure }
        set { parts.cpuPressure = newValue }
    }
    /// memory.pressure; nil when not available.
    public var memoryPressure: PressureStats? {
        get { parts.memoryPressure }
        set { parts.memoryPressure = newValue }
    }
    /// memory.events of cgroup v2.
    public var memoryEvents: MemoryEvents {
        get { parts.memoryEvents }
        set { parts.memoryEvents = newValue }
    }
    /// Every key of memory.stat, in file order (only when asked for: `sample(using:includeMemoryStat:)`;
    /// the store does not keep it).
    public var memoryStat: [(key: String, value: UInt64)] {
        get { parts.memoryStat }
        set { parts.memoryStat = newValue }
    }
    public var diskIO: DiskIOSample {
        get { parts.diskIO }
        set { parts.diskIO = newValue }
    }
    public var hugetlb: [HugetlbSample] {
        get { parts.hugetlb }
        set { parts.hugetlb = newValue }
    }
    /// Interfaces of the container's network namespace, filtered as cAdvisor does (no lo, veth*,
    /// docker*, nerdctl*); empty for containers without their own namespace. Filled by the caller,
    /// which knows the container's pid.
    public var network: [NetInterfaceStats] {
        get { parts.network }
        set { parts.network = newValue }
    }
    /// process_count, fd_count, socket_count and the open-files limit (`process` kind).
    public var processes: ProcessStats? {
        get { parts.processes }
        set { parts.processes = newValue }
    }
    /// TCP/UDP connection states (`tcp` / `udp` kinds).
    public var connections: ConnectionStats? {
        get { parts.connections }
        set { parts.connections = newValue }
    }
    /// Filesystem usage and I/O (`disk` kind; the root container's block filesystems).
    public var filesystems: [FilesystemStats] {
        get { parts.filesystems }
        set { parts.filesystems = newValue }
    }
    /// Run and wait time of the container's threads (`sched` kind).
    public var schedstat: CPUSchedstat {
        get { parts.schedstat }
        set { parts.schedstat = newValue }
    }
    /// Pages per NUMA node from memory.numa_stat (`memory_numa` kind; cgroup v1).
    public var numa: NumaMemory {
        get { parts.numa }
        set { parts.numa = newValue }
    }
    /// Bytes of the container's processes marked referenced (`referenced_memory` kind).
    public var referencedBytes: UInt64 {
        get { parts.referencedBytes }
        set { parts.referencedBytes = newValue }
    }
    /// cpuset.memory_migrate (`cpuset` kind; cgroup v1).
    public var memoryMigrate: UInt64 {
        get { parts.memoryMigrate }
        set { parts.memoryMigrate = newValue }
    }
    /// Files that failed; empty when the whole sample is good.
    public var errors: [SampleFileError] {
        get { parts.errors }
        set { parts.errors = newValue }
    }

    /// The out-of-line storage (tests look at sharing through it).
    var partsStorage: Indirect<Parts> { _parts }

    /// Takes the parts read from /proc (network, connections, processes, filesystems, scheduler and
    /// referenced-memory figures) from `other`: an on-demand sample reads only cgroup files.
    public mutating func carryProcfsParts(from other: ContainerSample) {
        network = other.network
        connections = other.connections
        processes = other.processes
        filesystems = other.filesystems
        schedstat = other.schedstat
        referencedBytes = other.referencedBytes
    }

    /// cAdvisor's StatsEq: equal in everything but the timestamp.
    public func sameStats(as other: ContainerSample) -> Bool {
        cpu == other.cpu && memory == other.memory && pids == other.pids && _parts == other._parts
    }

    /// Lets this sample share every part that equals the previous sample's. An idle container's
    /// history then costs little more than its counters.
    public mutating func shareStorage(with previous: ContainerSample) {
        cpu.shareStorage(with: previous.cpu)
        _parts.share(with: previous._parts)
    }
}

/// A cgroup's limits, in cAdvisor's units (the inputs of ContainerSpec).
public struct CgroupSpec: Sendable, Equatable {
    public var hasCPU = false
    public var hasMemory = false
    public var hasCPUSet = false
    public var hasPids = false
    public var hasDiskIO = false
    public var hasHugetlb = false
    /// CPU shares (v1 cpu.shares; v2 cpu.weight converted as cAdvisor does).
    public var cpuShares: UInt64 = 0
    /// CFS quota in microseconds; 0 when unlimited.
    public var cpuQuota: UInt64 = 0
    /// CFS period in microseconds.
    public var cpuPeriod: UInt64 = 0
    /// cpuset.cpus (v1) or cpuset.cpus.effective (v2), e.g. "0-3".
    public var cpuMask: String = ""
    public var memoryNodes: String = ""
    /// memory.limit_in_bytes or memory.max (UInt64.max for "max").
    public var memoryLimit: UInt64 = 0
    /// memory.soft_limit_in_bytes (v1) or memory.min (v2).
    public var memoryReservation: UInt64 = 0
    /// memory.memsw.limit_in_bytes (v1) or memory.swap.max (v2).
    public var memorySwapLimit: UInt64 = 0
    /// v2 memory.low and memory.high.
    public var memoryLow: UInt64 = 0
    public var memoryHigh: UInt64 = 0
    /// pids.max; 0 when unlimited.
    public var pidsMax: UInt64 = 0
    public var errors: [SampleFileError] = []
    public init() {}
}

/// Processes of a container, as cAdvisor's ProcessStats (threads come from pids.current/max).
public struct ProcessStats: Sendable, Equatable {
    public var processCount: UInt64 = 0
    public var fdCount: UInt64 = 0
    public var socketCount: UInt64 = 0
    /// "Max open files" of the container's first process: soft and hard limit (nil: unlimited/unknown).
    public var openFilesSoft: UInt64?
    public var openFilesHard: UInt64?
    public init() {}
}

/// Counts of TCP sockets per state (cAdvisor's TcpStat, Go field names on the wire).
public struct TCPStats: Sendable, Equatable {
    /// Indexed by the kernel's state number − 1: ESTABLISHED, SYN_SENT, SYN_RECV, FIN_WAIT1, FIN_WAIT2,
    /// TIME_WAIT, CLOSE, CLOSE_WAIT, LAST_ACK, LISTEN, CLOSING.
    public var states: [UInt64] = Array(repeating: 0, count: 11)
    public static let names = ["Established", "SynSent", "SynRecv", "FinWait1", "FinWait2", "TimeWait", "Close",
                               "CloseWait", "LastAck", "Listen", "Closing"]
    public init() {}
}

/// UDP socket counts (cAdvisor's UdpStat).
public struct UDPStats: Sendable, Equatable {
    public var listen: UInt64 = 0
    public var dropped: UInt64 = 0
    public var rxQueued: UInt64 = 0
    public var txQueued: UInt64 = 0
    public init() {}
}

/// The namespace-wide TCP counters of /proc/<pid>/net/snmp (`Tcp:`) and net/netstat (`TcpExt:`),
/// under cAdvisor's TcpAdvancedStat field names (Go names on the wire, lower-cased as metric labels).
public struct TCPAdvancedStats: Sendable, Equatable {
    /// cAdvisor's fields in its struct order; each is the kernel key of the same name.
    public static let fields = [
        "RtoAlgorithm", "RtoMin", "RtoMax", "MaxConn", "ActiveOpens", "PassiveOpens", "AttemptFails", "EstabResets",
        "CurrEstab", "InSegs", "OutSegs", "RetransSegs", "InErrs", "OutRsts", "InCsumErrors", "EmbryonicRsts",
        "SyncookiesSent", "SyncookiesRecv", "SyncookiesFailed", "PruneCalled", "RcvPruned", "OfoPruned",
        "OutOfWindowIcmps", "LockDroppedIcmps", "TW", "TWRecycled", "TWKilled", "TCPTimeWaitOverflow", "TCPTimeouts",
        "TCPSpuriousRTOs", "TCPLossProbes", "TCPLossProbeRecovery", "TCPRenoRecoveryFail", "TCPSackRecoveryFail",
        "TCPRenoFailures", "TCPSackFailures", "TCPLossFailures", "DelayedACKs", "DelayedACKLocked", "DelayedACKLost",
        "ListenOverflows", "ListenDrops", "TCPHPHits", "TCPPureAcks", "TCPHPAcks", "TCPRenoRecovery",
        "TCPSackRecovery", "TCPSACKReneging", "TCPFACKReorder", "TCPSACKReorder", "TCPRenoReorder", "TCPTSReorder",
        "TCPFullUndo", "TCPPartialUndo", "TCPDSACKUndo", "TCPLossUndo", "TCPFastRetrans", "TCPSlowStartRetrans",
        "TCPLostRetransmit", "TCPRetransFail", "TCPRcvCollapsed", "TCPDSACKOldSent", "TCPDSACKOfoSent", "TCPDSACKRecv",
        "TCPDSACKOfoRecv", "TCPAbortOnData", "TCPAbortOnClose", "TCPAbortOnMemory", "TCPAbortOnTimeout",
        "TCPAbortOnLinger", "TCPAbortFailed", "TCPMemoryPressures", "TCPMemoryPressuresChrono", "TCPSACKDiscard",
        "TCPDSACKIgnoredOld", "TCPDSACKIgnoredNoUndo", "TCPMD5NotFound", "TCPMD5Unexpected", "TCPMD5Failure",
        "TCPSackShifted", "TCPSackMerged", "TCPSackShiftFallback", "TCPBacklogDrop", "PFMemallocDrop", "TCPMinTTLDrop",
        "TCPDeferAcceptDrop", "IPReversePathFilter", "TCPReqQFullDoCookies", "TCPReqQFullDrop", "TCPFastOpenActive",
        "TCPFastOpenActiveFail", "TCPFastOpenPassive", "TCPFastOpenPassiveFail", "TCPFastOpenListenOverflow",
        "TCPFastOpenCookieReqd", "TCPSynRetrans", "TCPOrigDataSent", "PAWSActive", "PAWSEstab",
    ]
    /// The one signed field (-1: no limit).
    public static let maxConnIndex = 3
    static let index: [String: Int] = Dictionary(uniqueKeysWithValues: fields.enumerated().map { ($1, $0) })

    /// Values in `fields` order (MaxConn as its two's-complement bit pattern).
    public var values = [UInt64](repeating: 0, count: fields.count)
    public init() {}

    /// A field's value as cAdvisor exports it (MaxConn signed).
    public func value(at i: Int) -> Double {
        i == Self.maxConnIndex ? Double(Int64(bitPattern: values[i])) : Double(values[i])
    }
}

/// TCP and UDP counts of a container's network namespace.
public final class ConnectionStats: Sendable, Equatable {
    public let tcp: TCPStats
    public let tcp6: TCPStats
    public let udp: UDPStats
    public let udp6: UDPStats
    /// The namespace's TCP counters (`advtcp` kind); nil when not collected.
    public let advanced: TCPAdvancedStats?

    public init(tcp: TCPStats, tcp6: TCPStats, udp: UDPStats, udp6: UDPStats, advanced: TCPAdvancedStats? = nil) {
        self.tcp = tcp
        self.tcp6 = tcp6
        self.udp = udp
        self.udp6 = udp6
        self.advanced = advanced
    }

    public static func == (a: ConnectionStats, b: ConnectionStats) -> Bool {
        a.tcp == b.tcp && a.tcp6 == b.tcp6 && a.udp == b.udp && a.udp6 == b.udp6 && a.advanced == b.advanced
    }
}

/// Scheduler statistics of a container's threads from /proc/<tid>/schedstat, nanoseconds (cAdvisor's
/// CpuSchedstat). Threads that exited keep counting, so the totals never go down.
public struct CPUSchedstat: Sendable, Equatable {
    public var runTime: UInt64 = 0
    public var runqueueTime: UInt64 = 0
    public var runPeriods: UInt64 = 0
    public init() {}

    /// Sums of threads' counters, saturating: a total that wrapped would look like a reset.
    static func + (a: CPUSchedstat, b: CPUSchedstat) -> CPUSchedstat {
        var s = a
        s.runTime = a.runTime.saturatingAdd(b.runTime)
        s.runqueueTime = a.runqueueTime.saturatingAdd(b.runqueueTime)
        s.runPeriods = a.runPeriods.saturatingAdd(b.runPeriods)
        return s
    }
}

/// Pages per NUMA node of one scope, by type (memory.numa_stat's `file`, `anon`, `unevictable`), each
/// indexed by node number.
public struct NumaPages: Sendable, Equatable {
    public var file: [UInt64] = []
    public var anon: [UInt64] = []
    public var unevictable: [UInt64] = []
    public init() {}
    /// cAdvisor's type names with their per-node pages.
    public var byType: [(type: String, pages: [UInt64])] { [("file", file), ("anon", anon), ("unevictable", unevictable)] }
}

/// memory.numa_stat: the cgroup's own pages (`container_data`) and with its descendants (`hierarchical_data`).
public struct NumaMemory: Sendable, Equatable {
    public var container = NumaPages()
    public var hierarchical = NumaPages()
    public init() {}
}

/// One filesystem's usage (statfs) and I/O (/proc/diskstats), as cAdvisor's FsStats.
public struct FilesystemStats: Sendable, Equatable {
    public var device: String
    public var type: String
    public var capacity: UInt64 = 0
    public var usage: UInt64 = 0
    /// A runtime container's writable layer alone (`usage` adds its log directory); 0 otherwise.
    public var baseUsage: UInt64 = 0
    public var available: UInt64 = 0
    public var inodes: UInt64 = 0
    public var inodesFree: UInt64 = 0
    /// The diskstats columns of the device (reads, merges, sectors, ms, ...); empty when not a disk.
    public var io: [UInt64] = []
    public init(device: String, type: String) {
        self.device = device
        self.type = type
    }
}
