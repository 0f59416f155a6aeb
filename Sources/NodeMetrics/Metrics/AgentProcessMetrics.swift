import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The agent's own `process_*` metrics, as client_golang's process collector writes them.
enum AgentProcessMetrics {
    static let clockTicks = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
    static let pageSize = Double(max(sysconf(Int32(_SC_PAGESIZE)), 1))
    /// The agent's own /proc (not under `--root`: these are the agent's numbers), read through the
    /// C core's parsers; one reader shared by scrapes.
    static let procfs = Mutex(try? Procfs(paths: HostPaths()))
    /// Boot time (/proc/stat btime), read once.
    static let bootTime = Double(procfs.withLock { (try? $0?.stat())?.bootTime } ?? 0)

    static func write(_ w: inout MetricSeriesSink) {
        guard let stat = procfs.withLock({ try? $0?.processStat(pid: getpid()) }) else { return }
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        let maxFDs = Double(limit.rlim_cur)
        getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limit)
        let maxVirtual = limit.rlim_cur == rlim_t.max ? Double(UInt64.max) : Double(limit.rlim_cur)

        w.header("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.", type: .counter)
        w.sample("process_cpu_seconds_total", value: (Double(stat.userTicks) + Double(stat.systemTicks)) / clockTicks)
        w.header("process_max_fds", help: "Maximum number of open file descriptors.", type: .gauge)
        w.sample("process_max_fds", value: maxFDs)
        w.header("process_open_fds", help: "Number of open file descriptors.", type: .gauge)
        w.sample("process_open_fds", value: Double(openDescriptors()))
        w.header("process_resident_memory_bytes", help: "Resident memory size in bytes.", type: .gauge)
        w.sample("process_resident_memory_bytes", value: Double(stat.rssPages) * pageSize)
        w.header("process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.", type: .gauge)
        w.sample("process_start_time_seconds", value: bootTime + Double(stat.startTimeTicks) / clockTicks)
        w.header("process_virtual_memory_bytes", help: "Virtual memory size in bytes.", type: .gauge)
        w.sample("process_virtual_memory_bytes", value: Double(stat.virtualSize))
        w.header("process_virtual_memory_max_bytes", help: "Maximum amount of virtual memory available in bytes.", type: .gauge)
        w.sample("process_virtual_memory_max_bytes", value: maxVirtual)
    }

    /// Open descriptors: the size of /proc/self/fd (Linux ≥ 6.2 reports the count there, without a
    /// walk of thousands of entries), else its entries less the directory's own descriptor.
    static func openDescriptors() -> Int {
        var st = stat()
        if stat("/proc/self/fd", &st) == 0 && st.st_size > 0 { return Int(st.st_size) }
        guard let dir = opendir("/proc/self/fd") else { return 0 }
        defer { closedir(dir) }
        var n = 0
        while let e = readdir(dir) {
            if e.pointee.d_name.0 != UInt8(ascii: ".") { n += 1 }
        }
        return max(n - 1, 0)
    }
}
