import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The collectors cAdvisor ships switched off (`sched`, `referenced_memory`, `advtcp`, `memory_numa`,
/// `cpuset`): their files are read here, parsed by the static functions (tested on fixture text).
extension ContainerProcfs {
    /// Thread ids of a cgroup and every cgroup below it (`tasks` on v1, `cgroup.threads` on v2), as
    /// cAdvisor's GetAllPids walks the subtree.
    public func threadIDs(cgroupDirectory: String, file: String) -> [Int32] {
        var out: [Int32] = []
        var pending = [cgroupDirectory]
        while let dir = pending.popLast() {
            for line in (HostFiles.read(dir + "/" + file) ?? "").split(separator: "\n") {
                if let tid = Int32(line) { out.append(tid) }
            }
            guard let d = opendir(dir) else { continue }
            while let entry = readdir(d) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { pending.append(dir + "/" + name) }
            }
            closedir(d)
        }
        return out
    }

    /// /proc/<tid>/schedstat of each thread still alive.
    public func schedstats(threads: [Int32]) -> [Int32: CPUSchedstat] {
        var out: [Int32: CPUSchedstat] = [:]
        out.reserveCapacity(threads.count)
        for tid in threads {
            if let text = HostFiles.read(paths.path("/proc/\(tid)/schedstat")), let s = Self.parseSchedstat(text) {
                out[tid] = s
            }
        }
        return out
    }

    /// "run_time runqueue_time run_periods" (ns, ns, count); nil when malformed.
    static func parseSchedstat(_ text: String) -> CPUSchedstat? {
        let f = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard f.count >= 3, let run = UInt64(f[0]), let wait = UInt64(f[1]), let periods = UInt64(f[2]) else { return nil }
        var s = CPUSchedstat()
        s.runTime = run
        s.runqueueTime = wait
        s.runPeriods = periods
        return s
    }

    /// Bytes marked referenced over `pids`: smaps_rollup's one `Referenced:` line (Linux ≥ 4.14),
    /// else the sum over smaps' mappings as cAdvisor reads it.
    public func referencedBytes(pids: [Int32]) -> UInt64 {
        var total: UInt64 = 0
        for pid in pids {
            let text = HostFiles.read(paths.path("/proc/\(pid)/smaps_rollup")) ?? HostFiles.read(paths.path("/proc/\(pid)/smaps"))
            total = total.saturatingAdd(Self.referencedBytes(smaps: text ?? ""))
        }
        return total
    }

    /// The sum of `Referenced:  N kB` lines, in bytes.
    static func referencedBytes(smaps: String) -> UInt64 {
        var total: UInt64 = 0
        for line in smaps.split(separator: "\n") where line.hasPrefix("Referenced:") {
            let f = line.split(separator: " ")
            if f.count >= 2, let kb = UInt64(f[1]) { total = total.saturatingAdd(kb.saturatingMultiply(1024)) }
        }
        return total
    }

    /// Clears the referenced bits of `pids`' pages (writes "1" to /proc/<pid>/clear_refs), as cAdvisor
    /// does every `-referenced_reset_interval` samples. Returns how many processes could not be reset.
    @discardableResult
    public func clearReferences(pids: [Int32]) -> Int {
        var failed = 0
        for pid in pids {
            let fd = open(paths.path("/proc/\(pid)/clear_refs"), O_WRONLY | O_CLOEXEC)
            if fd < 0 { failed += 1; continue }
            if write(fd, "1", 1) != 1 { failed += 1 }
            close(fd)
        }
        return failed
    }

    /// The advanced TCP counters of the network namespace of `pid`.
    public func tcpAdvanced(pid: Int32) -> TCPAdvancedStats {
        Self.tcpAdvanced(snmp: HostFiles.read(paths.path("/proc/\(pid)/net/snmp")) ?? "",
                         netstat: HostFiles.read(paths.path("/proc/\(pid)/net/netstat")) ?? "")
    }

    /// cAdvisor's TcpAdvancedStat from the `Tcp:` section of net/snmp and the `TcpExt:` section of
    /// net/netstat (each a header line of keys followed by a line of values). Keys cAdvisor has no
    /// field for are skipped; fields the kernel lacks stay 0.
    static func tcpAdvanced(snmp: String, netstat: String) -> TCPAdvancedStats {
        var stats = TCPAdvancedStats()
        func take(_ text: String, section: String) {
            let lines = text.split(separator: "\n")
            var i = 0
            while i + 1 < lines.count {
                let keys = lines[i].split(separator: " "), values = lines[i + 1].split(separator: " ")
                if keys.first == Substring(section + ":") && values.first == Substring(section + ":") {
                    for (k, v) in zip(keys.dropFirst(), values.dropFirst()) {
                        guard let field = TCPAdvancedStats.index[String(k)] else { continue }
                        if let u = UInt64(v) { stats.values[field] = u } else if let s = Int64(v) { stats.values[field] = UInt64(bitPattern: s) }
                    }
                    i += 2
                } else {
                    i += 1
                }
            }
        }
        take(snmp, section: "Tcp")
        take(netstat, section: "TcpExt")
        return stats
    }

    /// memory.numa_stat of cgroup v1: `file=N N0=a N1=b`, … and the `hierarchical_` lines; pages per node.
    static func numaStat(_ text: String) -> NumaMemory {
        var numa = NumaMemory()
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard let head = fields.first, let eq = head.firstIndex(of: "=") else { continue }
            var nodes: [UInt64] = []
            for field in fields.dropFirst() where field.hasPrefix("N") {
                let parts = field.dropFirst().split(separator: "=")
                guard parts.count == 2, let node = Int(parts[0]), node >= 0, node < 4096, let pages = UInt64(parts[1]) else { continue }
                if nodes.count <= node { nodes.append(contentsOf: repeatElement(0, count: node + 1 - nodes.count)) }
                nodes[node] = pages
            }
            switch head[..<eq] {
            case "file": numa.container.file = nodes
            case "anon": numa.container.anon = nodes
            case "unevictable": numa.container.unevictable = nodes
            case "hierarchical_file": numa.hierarchical.file = nodes
            case "hierarchical_anon": numa.hierarchical.anon = nodes
            case "hierarchical_unevictable": numa.hierarchical.unevictable = nodes
            default: break
            }
        }
        return numa
    }
}

/// Per container, the schedstat of each thread last seen and the total of threads that exited, so
/// the container's counters only grow (cAdvisor keeps exited pids' figures the same way).
struct SchedstatAccumulator {
    private var live: [Int32: CPUSchedstat] = [:]
    private var retired = CPUSchedstat()

    /// Folds in this pass's readings and returns the container's totals.
    mutating func update(_ readings: [Int32: CPUSchedstat]) -> CPUSchedstat {
        for (tid, last) in live {
            // Gone, or the id reused by a new thread whose counters restarted.
            let continues = readings[tid].map { $0.runTime >= last.runTime && $0.runPeriods >= last.runPeriods } ?? false
            if !continues { retired = retired + last }
        }
        live = readings
        return live.values.reduce(retired, +)
    }
}
