/// cAdvisor's v1 `ContainerStats` JSON (info/v1), field for field and in Go's field order.
/// Objects that cAdvisor before v0.60.2 always emitted (cpu, diskio, memory, network, task_stats,
/// processes, resctrl, cpuset) are always written; collections that Go omits when empty are omitted.
public enum CAdvisorV1Stats {
    /// Resolves a block device number to its name ("vda") for PerDiskStats.device.
    public typealias DeviceNamer = (_ major: UInt32, _ minor: UInt32) -> String

    public static func write(_ s: ContainerSample, to w: inout JSONWriter, deviceName: DeviceNamer = { _, _ in "" }) {
        w.beginObject()
        w.field("timestamp", GoTime.rfc3339Nano(nanosSinceEpoch: s.timestampNanos))
        w.object("cpu") { w in writeCPU(s, &w) }
        w.object("diskio") { w in writeDiskIO(s.diskIO, &w, deviceName) }
        w.object("memory") { w in writeMemory(s, &w) }
        if !s.hugetlb.isEmpty { writeHugetlb(s.hugetlb, &w) }
        w.object("network") { w in writeNetwork(s, flattened: true, &w) }
        if !s.filesystems.isEmpty {
            w.array("filesystem", s.filesystems) { w, fs in writeFilesystem(fs, &w) }
        }
        w.object("task_stats") { w in
            for k in ["nr_sleeping", "nr_running", "nr_stopped", "nr_uninterruptible", "nr_io_wait"] {
                w.field(k, UInt64(0))
            }
        }
        writeProcesses(s, &w)
        if s.referencedBytes != 0 { w.field("referenced_memory", s.referencedBytes) }
        w.object("resctrl") { _ in }
        w.object("cpuset") { w in w.field("memory_migrate", s.memoryMigrate) }
        w.endObject()
    }

    static func writeHugetlb(_ hugetlb: [HugetlbSample], _ w: inout JSONWriter) {
        w.object("hugetlb") { w in
            for h in hugetlb.sorted(by: { $0.pageSize < $1.pageSize }) {
                w.object(h.pageSize) { w in
                    w.field("usage", h.usage)
                    if h.maxUsage != 0 { w.field("max_usage", h.maxUsage) }
                    w.field("failcnt", h.failcnt)
                }
            }
        }
    }

    static func writeProcesses(_ s: ContainerSample, _ w: inout JSONWriter) {
        w.object("processes") { w in
            let p = s.processes ?? ProcessStats()
            w.field("process_count", p.processCount)
            w.field("fd_count", p.fdCount)
            w.field("socket_count", p.socketCount)
            if s.pids.current != 0 { w.field("threads_current", s.pids.current) }
            if s.pids.max != 0 { w.field("threads_max", s.pids.max) }
            if p.openFilesSoft != nil || p.openFilesHard != nil {
                w.array("ulimits", [p]) { w, p in
                    w.beginObject()
                    w.field("name", "max_open_files")
                    w.field("soft_limit", Int64(clamping: p.openFilesSoft ?? UInt64(Int64.max)))
                    w.field("hard_limit", Int64(clamping: p.openFilesHard ?? UInt64(Int64.max)))
                    w.endObject()
                }
            }
        }
    }

    /// The whole sample as a JSON string.
    public static func json(_ s: ContainerSample, deviceName: DeviceNamer = { _, _ in "" }) -> String {
        var w = JSONWriter()
        write(s, to: &w, deviceName: deviceName)
        return w.string
    }

    static func writePSI(_ p: PressureStats?, _ w: inout JSONWriter) {
        let p = p ?? PressureStats()
        w.object("psi") { w in
            for (name, d) in [("full", p.full), ("some", p.some)] {
                w.object(name) { w in
                    w.field("total", d.total)
                    w.field("avg10", d.avg10)
                    w.field("avg60", d.avg60)
                    w.field("avg300", d.avg300)
                }
            }
        }
    }

    static func writeCPU(_ s: ContainerSample, _ w: inout JSONWriter) {
        let c = s.cpu
        w.object("usage") { w in
            w.field("total", c.usage.total)
            if !c.usage.perCPU.isEmpty { w.array("per_cpu_usage", c.usage.perCPU) { w, v in w.value(v) } }
            w.field("user", c.usage.user)
            w.field("system", c.usage.system)
        }
        w.object("cfs") { w in
            w.field("periods", c.cfs.periods)
            w.field("throttled_periods", c.cfs.throttledPeriods)
            w.field("throttled_time", c.cfs.throttledTime)
            w.field("bursts_periods", c.cfs.burstsPeriods)
            w.field("burst_time", c.cfs.burstTime)
        }
        w.object("schedstat") { w in
            w.field("run_time", s.schedstat.runTime)
            w.field("runqueue_time", s.schedstat.runqueueTime)
            w.field("run_periods", s.schedstat.runPeriods)
        }
        w.field("load_average", Int64(0))
        w.field("load_d_average", Double(0))
        writePSI(s.cpuPressure, &w)
    }

    static func writeMemory(_ s: ContainerSample, _ w: inout JSONWriter) {
        let m = s.memory, events = s.memoryEvents
        w.field("usage", m.usage)
        w.field("max_usage", m.maxUsage)
        w.field("cache", m.cache)
        w.field("rss", m.rss)
        w.field("swap", m.swap)
        w.field("mapped_file", m.mappedFile)
        w.field("working_set", m.workingSet)
        w.field("total_active_file", m.totalActiveFile)
        w.field("total_inactive_file", m.totalInactiveFile)
        w.field("file_dirty", m.fileDirty)
        w.field("file_writeback", m.fileWriteback)
        w.field("pgscan", m.pgscan)
        w.field("pgsteal", m.pgsteal)
        w.field("workingset_refault_file", m.workingsetRefaultFile)
        w.field("workingset_refault_anon", m.workingsetRefaultAnon)
        w.field("failcnt", m.failcnt)
        w.field("kernel", m.kernelUsage)
        for (name, fault, major, numa) in [("container_data", m.pgfault, m.pgmajfault, s.numa.container),
                                           ("hierarchical_data", m.hierarchicalPgfault, m.hierarchicalPgmajfault, s.numa.hierarchical)] {
            w.object(name) { w in
                w.field("pgfault", fault)
                w.field("pgmajfault", major)
                w.object("numa_stats") { w in
                    // Go's map[uint8]uint64: omitted when empty, keys in string order.
                    for (type, pages) in numa.byType where !pages.isEmpty {
                        w.object(type) { w in
                            for node in pages.indices.sorted(by: { String($0) < String($1) }) { w.field(String(node), pages[node]) }
                        }
                    }
                }
            }
        }
        writePSI(s.memoryPressure, &w)
        w.object("events") { w in
            w.field("high", events.high)
            w.field("max", events.max)
        }
    }

    static func writeDiskIO(_ d: DiskIOSample, _ w: inout JSONWriter, _ deviceName: DeviceNamer) {
        let tables = [("io_service_bytes", d.ioServiceBytes), ("io_serviced", d.ioServiced),
                      ("io_cost_usage", d.ioCostUsage), ("io_cost_wait", d.ioCostWait),
                      ("io_cost_indebt", d.ioCostIndebt), ("io_cost_indelay", d.ioCostIndelay)]
        for (name, rows) in tables where !rows.isEmpty {
            w.array(name, rows) { w, row in
                w.beginObject()
                w.field("device", deviceName(row.major, row.minor))
                w.field("major", UInt64(row.major))
                w.field("minor", UInt64(row.minor))
                w.map("stats", row.stats)
                w.endObject()
            }
        }
        writePSI(d.pressure, &w)
    }

    static func writeInterface(_ i: NetInterfaceStats, _ w: inout JSONWriter) {
        w.field("name", i.name)
        w.field("rx_bytes", i.rxBytes)
        w.field("rx_packets", i.rxPackets)
        w.field("rx_errors", i.rxErrors)
        w.field("rx_dropped", i.rxDropped)
        w.field("tx_bytes", i.txBytes)
        w.field("tx_packets", i.txPackets)
        w.field("tx_errors", i.txErrors)
        w.field("tx_dropped", i.txDropped)
    }

    static func writeFilesystem(_ fs: FilesystemStats, _ w: inout JSONWriter) {
        func io(_ i: Int) -> UInt64 { i < fs.io.count ? fs.io[i] : 0 }
        w.beginObject()
        w.field("device", fs.device)
        w.field("type", fs.type)
        w.field("capacity", fs.capacity)
        w.field("usage", fs.usage)
        w.field("base_usage", fs.baseUsage)
        w.field("available", fs.available)
        w.field("has_inodes", fs.inodes > 0)
        w.field("inodes", fs.inodes)
        w.field("inodes_free", fs.inodesFree)
        let names = ["reads_completed", "reads_merged", "sectors_read", "read_time", "writes_completed",
                     "writes_merged", "sectors_written", "write_time", "io_in_progress", "io_time", "weighted_io_time"]
        for (i, name) in names.enumerated() { w.field(name, io(i)) }
        w.endObject()
    }

    /// v1 NetworkStats (`flattened`: the first interface repeated at the top level "for backwards
    /// compatibility"), or v2.1's NetworkStats without it.
    static func writeNetwork(_ s: ContainerSample, flattened: Bool, _ w: inout JSONWriter) {
        let interfaces = s.network, connections = s.connections
        if flattened {
            writeInterface(interfaces.first ?? NetInterfaceStats(name: "", rxBytes: 0, rxPackets: 0, rxErrors: 0,
                                                                rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0,
                                                                txDropped: 0), &w)
        }
        if !interfaces.isEmpty {
            w.array("interfaces", interfaces) { w, i in
                w.beginObject()
                writeInterface(i, &w)
                w.endObject()
            }
        }
        for (name, tcp) in [("tcp", connections?.tcp ?? TCPStats()), ("tcp6", connections?.tcp6 ?? TCPStats())] {
            w.object(name) { w in for (i, k) in TCPStats.names.enumerated() { w.field(k, tcp.states[i]) } }
        }
        for (name, udp) in [("udp", connections?.udp ?? UDPStats()), ("udp6", connections?.udp6 ?? UDPStats())] {
            w.object(name) { w in
                w.field("Listen", udp.listen)
                w.field("Dropped", udp.dropped)
                w.field("RxQueued", udp.rxQueued)
                w.field("TxQueued", udp.txQueued)
            }
        }
        let advanced = connections?.advanced ?? TCPAdvancedStats()
        w.object("tcp_advanced") { w in
            for (i, name) in TCPAdvancedStats.fields.enumerated() {
                if i == TCPAdvancedStats.maxConnIndex {
                    w.field(name, Int64(bitPattern: advanced.values[i]))
                } else {
                    w.field(name, advanced.values[i])
                }
            }
        }
    }
}
