import CCgroupFast

/// CPU time columns of one /proc/stat `cpu` line, in USER_HZ ticks.
public struct CPUTimes: Sendable, Equatable {
    /// -1 for the aggregate line.
    public var cpu: Int32
    public var user, nice, system, idle, iowait, irq, softirq, steal, guest, guestNice: UInt64
}

/// /proc/stat.
public struct ProcStat: Sendable, Equatable {
    public var total: CPUTimes
    public var perCPU: [CPUTimes]
    public var contextSwitches, bootTime, processesCreated, procsRunning, procsBlocked, interrupts: UInt64
}

/// /proc/loadavg.
public struct LoadAverage: Sendable, Equatable {
    public var load1, load5, load15: Double
    public var runnable, threads, lastPID: UInt64
}

/// One /proc/diskstats line (Documentation/admin-guide/iostats.rst).
public struct DiskStat: Sendable, Equatable {
    public var major, minor: UInt32
    public var name: String
    /// The numeric columns after the name, as many as the kernel prints.
    public var fields: [UInt64]
    public var readsCompleted: UInt64 { field(0) }
    public var readsMerged: UInt64 { field(1) }
    public var sectorsRead: UInt64 { field(2) }
    public var readTimeMs: UInt64 { field(3) }
    public var writesCompleted: UInt64 { field(4) }
    public var writesMerged: UInt64 { field(5) }
    public var sectorsWritten: UInt64 { field(6) }
    public var writeTimeMs: UInt64 { field(7) }
    public var ioInProgress: UInt64 { field(8) }
    public var ioTimeMs: UInt64 { field(9) }
    public var weightedIOTimeMs: UInt64 { field(10) }
    func field(_ i: Int) -> UInt64 { i < fields.count ? fields[i] : 0 }
}

/// One interface of /proc/<pid>/net/dev.
public struct NetInterfaceStats: Sendable, Equatable {
    public var name: String
    public var rxBytes, rxPackets, rxErrors, rxDropped: UInt64
    public var txBytes, txPackets, txErrors, txDropped: UInt64
}

extension NetInterfaceStats {
    /// cAdvisor leaves out loopback, veth pairs and bridges: interfaces named lo*, veth*, docker*, nerdctl*.
    public var isContainerInterface: Bool {
        !["lo", "veth", "docker", "nerdctl"].contains { name.hasPrefix($0) }
    }
}

/// /proc/<pid>/stat.
public struct ProcessStat: Sendable, Equatable {
    public var pid: Int64
    public var comm: String
    public var state: Character
    public var ppid: Int64
    public var session: Int64
    public var nice: Int64
    public var minorFaults, majorFaults, userTicks, systemTicks: UInt64
    public var threads: Int64
    public var startTimeTicks: UInt64
    public var virtualSize: UInt64
    public var rssPages: Int64
    public var processor: Int64
}

/// /proc/<pid>/status: name, state and the numeric fields ("kB" values in bytes).
public struct ProcessStatus: Sendable {
    public var name: String
    public var state: Character
    public var fields: [String: UInt64]
}

/// Errors of a procfs read.
public struct ProcfsError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var status: Int32
    public var description: String { "\(file): \(Status.text(status))" }
    /// The process (or the whole file) is gone.
    public var isGone: Bool { status == Int32(CGF_EGONE) }
}

/// The host's procfs, read through the C core: host-wide files stay open, per-process files are
/// opened per read. Not thread-safe: it owns one read buffer.
public final class Procfs {
    let raw: UnsafeMutablePointer<cgf_procfs>
    let scratch: UnsafeMutableRawPointer
    let scratchSize = 256 * 1024   // /proc/stat of a large machine carries a long "intr" line
    public let procPath: String

    /// Opens `paths.path("/proc")`.
    public init(paths: HostPaths) throws(ProcfsError) {
        procPath = paths.path("/proc")
        raw = .allocate(capacity: 1)
        raw.initialize(to: cgf_procfs())
        scratch = .allocate(byteCount: scratchSize, alignment: 16)
        let rc = cgf_procfs_open(raw, procPath)
        guard rc == Int32(CGF_OK) else {
            // deinit runs for a fully initialized instance and releases both.
            throw ProcfsError(file: procPath, status: rc)
        }
    }

    deinit {
        cgf_procfs_close(raw)
        raw.deallocate()
        scratch.deallocate()
    }

    /// Calls a C reader with a freshly allocated output struct.
    private func read<T>(_ file: String, _ initial: T,
                         _ body: (UnsafeMutablePointer<T>, UnsafeMutablePointer<CChar>, Int) -> Int32) throws(ProcfsError) -> UnsafeMutablePointer<T> {
        let out = UnsafeMutablePointer<T>.allocate(capacity: 1)
        out.initialize(to: initial)
        let rc = body(out, scratch.assumingMemoryBound(to: CChar.self), scratchSize)
        guard rc == Int32(CGF_OK) || rc == Int32(CGF_EOVERFLOW) else {
            out.deallocate()
            throw ProcfsError(file: file, status: rc)
        }
        return out
    }

    public func stat() throws(ProcfsError) -> ProcStat {
        let s = try read("stat", cgf_proc_stat()) { cgf_procfs_read_stat(raw, $0, $1, $2) }
        defer { s.deallocate() }
        func times(_ t: cgf_cpu_times) -> CPUTimes {
            CPUTimes(cpu: t.cpu, user: t.user, nice: t.nice, system: t.system, idle: t.idle, iowait: t.iowait,
                     irq: t.irq, softirq: t.softirq, steal: t.steal, guest: t.guest, guestNice: t.guest_nice)
        }
        let cpus = UnsafeBufferPointer(start: cgf_proc_stat_cpus(s), count: Int(s.pointee.cpu_count)).map(times)
        return ProcStat(total: times(s.pointee.total), perCPU: cpus, contextSwitches: s.pointee.ctxt,
                        bootTime: s.pointee.btime, processesCreated: s.pointee.processes,
                        procsRunning: s.pointee.procs_running, procsBlocked: s.pointee.procs_blocked,
                        interrupts: s.pointee.intr_total)
    }

    /// /proc/meminfo as key -> bytes (counts such as HugePages_Total stay counts).
    public func memInfo() throws(ProcfsError) -> [String: UInt64] {
        let l = try read("meminfo", cgf_kv_list()) { cgf_procfs_read_meminfo(raw, $0, $1, $2) }
        defer { l.deallocate() }
        return Dictionary(SampleConversion.keyValues(l).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// Parses meminfo-format text (/proc/meminfo, or a NUMA node's with its "Node N " prefix removed)
    /// with the C core's parser: key -> bytes; nothing when the text is malformed.
    public static func parseMeminfo(_ text: String) -> [String: UInt64] {
        var bytes = Array(text.utf8)
        let list = UnsafeMutablePointer<cgf_kv_list>.allocate(capacity: 1)
        defer { list.deallocate() }
        let rc = bytes.withUnsafeMutableBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cgf_parse_meminfo($0.baseAddress, $0.count, list) }
        }
        guard rc == Int32(CGF_OK) else { return [:] }
        return Dictionary(SampleConversion.keyValues(list).map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
    }

    /// /proc/vmstat, in file order.
    public func vmstat() throws(ProcfsError) -> [(key: String, value: UInt64)] {
        let l = try read("vmstat", cgf_kv_list()) { cgf_procfs_read_vmstat(raw, $0, $1, $2) }
        defer { l.deallocate() }
        return SampleConversion.keyValues(l)
    }

    public func loadAverage() throws(ProcfsError) -> LoadAverage {
        let l = try read("loadavg", cgf_loadavg()) { cgf_procfs_read_loadavg(raw, $0, $1, $2) }
        defer { l.deallocate() }
        let v = l.pointee
        return LoadAverage(load1: Double(v.load1_x100) / 100, load5: Double(v.load5_x100) / 100,
                           load15: Double(v.load15_x100) / 100, runnable: v.running, threads: v.threads,
                           lastPID: v.last_pid)
    }

    public func diskStats() throws(ProcfsError) -> [DiskStat] {
        let d = try read("diskstats", cgf_diskstats()) { cgf_procfs_read_diskstats(raw, $0, $1, $2) }
        defer { d.deallocate() }
        let disks = cgf_diskstats_disks(d)
        return (0..<Int(d.pointee.count)).map { i in
            DiskStat(major: disks[i].major, minor: disks[i].minor, name: String(cString: cgf_disk_name(disks + i)),
                     fields: Array(UnsafeBufferPointer(start: cgf_disk_fields(disks + i), count: Int(disks[i].field_count))))
        }
    }

    /// /proc/<pid>/net/dev: the interfaces of that process's network namespace.
    public func netDev(pid: Int32) throws(ProcfsError) -> [NetInterfaceStats] {
        let n = try read("\(pid)/net/dev", cgf_net_dev()) { cgf_procfs_read_net_dev(raw, pid, $0, $1, $2) }
        defer { n.deallocate() }
        let ifs = cgf_net_interfaces(n)
        return (0..<Int(n.pointee.count)).map { i in
            let v = ifs[i]
            return NetInterfaceStats(name: String(cString: cgf_net_interface_name(ifs + i)),
                                     rxBytes: v.rx_bytes, rxPackets: v.rx_packets, rxErrors: v.rx_errors,
                                     rxDropped: v.rx_dropped, txBytes: v.tx_bytes, txPackets: v.tx_packets,
                                     txErrors: v.tx_errors, txDropped: v.tx_dropped)
        }
    }

    public func processStat(pid: Int32) throws(ProcfsError) -> ProcessStat {
        let s = try read("\(pid)/stat", cgf_pid_stat()) { cgf_procfs_read_pid_stat(raw, pid, $0, $1, $2) }
        defer { s.deallocate() }
        let v = s.pointee
        return ProcessStat(pid: v.pid, comm: String(cString: cgf_pid_stat_comm(s)),
                           state: Character(Unicode.Scalar(UInt8(bitPattern: v.state))), ppid: v.ppid,
                           session: v.session, nice: v.nice, minorFaults: v.minflt, majorFaults: v.majflt, userTicks: v.utime, systemTicks: v.stime,
                           threads: v.num_threads, startTimeTicks: v.starttime, virtualSize: v.vsize,
                           rssPages: v.rss_pages, processor: v.processor)
    }

    public func processStatus(pid: Int32) throws(ProcfsError) -> ProcessStatus {
        let s = try read("\(pid)/status", cgf_pid_status()) { cgf_procfs_read_pid_status(raw, pid, $0, $1, $2) }
        defer { s.deallocate() }
        let fields = withUnsafePointer(to: &s.pointee.fields) { SampleConversion.keyValues($0) }
        return ProcessStatus(name: String(cString: cgf_pid_status_name(s)),
                             state: Character(Unicode.Scalar(UInt8(bitPattern: s.pointee.state))),
                             fields: Dictionary(fields.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a }))
    }
}
