/// cAdvisor's v1 `ContainerStats` JSON (info/v1), field for field and in Go's field order.
/// Objects that cAdvisor before v0.60.2 always emitted (cpu, diskio, memory, network, task_stats,
/// processes, resctrl, cpuset) are always written; collections that Go omits when empty are omitted.
///
/// Written for speed (each storage driver encodes every sample, and the API every sample it serves):
/// literal keys copied without an escape scan, tables of names escaped once, no array or string made
/// per sample. `JSONEncodingGoldenTests` holds the bytes to what they were.
public enum CAdvisorV1Stats {
    /// Resolves a block device number to its name ("vda") for PerDiskStats.device.
    public typealias DeviceNamer = (_ major: UInt32, _ minor: UInt32) -> String

    public static func write(_ s: ContainerSample, to w: inout JSONWriter, deviceName: DeviceNamer = { _, _ in "" }) {
        w.beginObject()
        w.field(literal: "timestamp", rfc3339Nano: s.timestampNanos)
        w.object(literal: "cpu") { w in writeCPU(s, &w) }
        w.object(literal: "diskio") { w in writeDiskIO(s.diskIO, &w, deviceName) }
        w.object(literal: "memory") { w in writeMemory(s, &w) }
        if !s.hugetlb.isEmpty { writeHugetlb(s.hugetlb, &w) }
        w.object(literal: "network") { w in writeNetwork(s, flattened: true, &w) }
        if !s.filesystems.isEmpty {
            w.key(literal: "filesystem")
            w.beginArray()
            for fs in s.filesystems { writeFilesystem(fs, &w) }
            w.endArray()
        }
        w.object(literal: "task_stats") { w in writeLoadStats(&w) }
        writeProcesses(s, &w)
        if s.referencedBytes != 0 { w.field(literal: "referenced_memory", s.referencedBytes) }
        w.object(literal: "resctrl") { _ in }
        w.object(literal: "cpuset") { w in w.field(literal: "memory_migrate", s.memoryMigrate) }
        w.endObject()
    }

    /// LoadStats (v1 task_stats, v2.0 load_stats): all zero, as cAdvisor without netlink writes them.
    static func writeLoadStats(_ w: inout JSONWriter) {
        w.field(literal: "nr_sleeping", UInt64(0))
        w.field(literal: "nr_running", UInt64(0))
        w.field(literal: "nr_stopped", UInt64(0))
        w.field(literal: "nr_uninterruptible", UInt64(0))
        w.field(literal: "nr_io_wait", UInt64(0))
    }

    static func writeHugetlb(_ hugetlb: [HugetlbSample], _ w: inout JSONWriter) {
        func write(_ h: HugetlbSample, _ w: inout JSONWriter) {
            w.object(h.pageSize) { w in
                w.field(literal: "usage", h.usage)
                if h.maxUsage != 0 { w.field(literal: "max_usage", h.maxUsage) }
                w.field(literal: "failcnt", h.failcnt)
            }
        }
        w.object(literal: "hugetlb") { w in
            // Go's map order; the sampler's order usually is that already (no sorted copy then).
            if zip(hugetlb, hugetlb.dropFirst()).allSatisfy({ $0.pageSize < $1.pageSize }) {
                for h in hugetlb { write(h, &w) }
            } else {
                for h in hugetlb.sorted(by: { $0.pageSize < $1.pageSize }) { write(h, &w) }
            }
        }
    }

    static func writeProcesses(_ s: ContainerSample, _ w: inout JSONWriter) {
        w.object(literal: "processes") { w in
            let p = s.processes ?? ProcessStats()
            w.field(literal: "process_count", p.processCount)
            w.field(literal: "fd_count", p.fdCount)
            w.field(literal: "socket_count", p.socketCount)
            if s.pids.current != 0 { w.field(literal: "threads_current", s.pids.current) }
            if s.pids.max != 0 { w.field(literal: "threads_max", s.pids.max) }
            if p.openFilesSoft != nil || p.openFilesHard != nil {
                w.key(literal: "ulimits")
                w.beginArray()
                w.beginObject()
                w.field(literal: "name", "max_open_files")
                w.field(literal: "soft_limit", Int64(clamping: p.openFilesSoft ?? UInt64(Int64.max)))
                w.field(literal: "hard_limit", Int64(clamping: p.openFilesHard ?? UInt64(Int64.max)))
                w.endObject()
                w.endArray()
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
        func write(_ d: PressureData, _ w: inout JSONWriter) {
            w.field(literal: "total", d.total)
            w.field(literal: "avg10", d.avg10)
            w.field(literal: "avg60", d.avg60)
            w.field(literal: "avg300", d.avg300)
        }
        let p = p ?? PressureStats()
        w.object(literal: "psi") { w in
            w.object(literal: "full") { w in write(p.full, &w) }
            w.object(literal: "some") { w in write(p.some, &w) }
        }
    }

    static func writeCPU(_ s: ContainerSample, _ w: inout JSONWriter) {
        let c = s.cpu
        w.object(literal: "usage") { w in
            w.field(literal: "total", c.usage.total)
            if !c.usage.perCPU.isEmpty {
                w.key(literal: "per_cpu_usage")
                w.beginArray()
                for v in c.usage.perCPU { w.value(v) }
                w.endArray()
            }
            w.field(literal: "user", c.usage.user)
            w.field(literal: "system", c.usage.system)
        }
        w.object(literal: "cfs") { w in
            w.field(literal: "periods", c.cfs.periods)
            w.field(literal: "throttled_periods", c.cfs.throttledPeriods)
            w.field(literal: "throttled_time", c.cfs.throttledTime)
            w.field(literal: "bursts_periods", c.cfs.burstsPeriods)
            w.field(literal: "burst_time", c.cfs.burstTime)
        }
        w.object(literal: "schedstat") { w in
            w.field(literal: "run_time", s.schedstat.runTime)
            w.field(literal: "runqueue_time", s.schedstat.runqueueTime)
            w.field(literal: "run_periods", s.schedstat.runPeriods)
        }
        w.field(literal: "load_average", Int64(0))
        w.field(literal: "load_d_average", Double(0))
        writePSI(s.cpuPressure, &w)
    }

    /// Go's map[uint8]uint64 of pages per node: omitted when empty, keys in string order.
    private static func writeNuma(_ type: StaticString, _ pages: [UInt64], _ w: inout JSONWriter) {
        guard !pages.isEmpty else { return }
        w.object(literal: type) { w in
            if pages.count <= 10 { // "0"…"9": string order is number order
                for node in pages.indices { w.key(decimal: UInt64(node)); w.value(pages[node]) }
            } else {
                for node in pages.indices.sorted(by: { String($0) < String($1) }) { w.field(String(node), pages[node]) }
            }
        }
    }

    private static func writeMemoryData(_ name: StaticString, fault: UInt64, major: UInt64, numa: NumaPages,
                                        _ w: inout JSONWriter) {
        w.object(literal: name) { w in
            w.field(literal: "pgfault", fault)
            w.field(literal: "pgmajfault", major)
            w.object(literal: "numa_stats") { w in
                writeNuma("file", numa.file, &w)
                writeNuma("anon", numa.anon, &w)
                writeNuma("unevictable", numa.unevictable, &w)
            }
        }
    }

    static func writeMemory(_ s: ContainerSample, _ w: inout JSONWriter) {
        let m = s.memory, events = s.memoryEvents, numa = s.numa
        w.field(literal: "usage", m.usage)
        w.field(literal: "max_usage", m.maxUsage)
        w.field(literal: "cache", m.cache)
        w.field(literal: "rss", m.rss)
        w.field(literal: "swap", m.swap)
        w.field(literal: "mapped_file", m.mappedFile)
        w.field(literal: "working_set", m.workingSet)
        w.field(literal: "total_active_file", m.totalActiveFile)
        w.field(literal: "total_inactive_file", m.totalInactiveFile)
        w.field(literal: "file_dirty", m.fileDirty)
        w.field(literal: "file_writeback", m.fileWriteback)
        w.field(literal: "pgscan", m.pgscan)
        w.field(literal: "pgsteal", m.pgsteal)
        w.field(literal: "workingset_refault_file", m.workingsetRefaultFile)
        w.field(literal: "workingset_refault_anon", m.workingsetRefaultAnon)
        w.field(literal: "failcnt", m.failcnt)
        w.field(literal: "kernel", m.kernelUsage)
        writeMemoryData("container_data", fault: m.pgfault, major: m.pgmajfault, numa: numa.container, &w)
        writeMemoryData("hierarchical_data", fault: m.hierarchicalPgfault, major: m.hierarchicalPgmajfault,
                        numa: numa.hierarchical, &w)
        writePSI(s.memoryPressure, &w)
        w.object(literal: "events") { w in
            w.field(literal: "high", events.high)
            w.field(literal: "max", events.max)
        }
    }

    /// `DiskDeviceStats.operations` indices in Go's map order of their names (Async, Count, Discard,
    /// Read, Sync, Total, Write), each name escaped once.
    private static let operationOrder: [Int] = DiskDeviceStats.operations.indices.sorted {
        DiskDeviceStats.operations[$0] < DiskDeviceStats.operations[$1]
    }
    private static let operationKeys = PreEscapedKeys(DiskDeviceStats.operations)

    private static func writeDiskTable(_ name: StaticString, _ rows: [DiskDeviceStats], _ w: inout JSONWriter,
                                       _ deviceName: DeviceNamer) {
        guard !rows.isEmpty else { return }
        let order = operationOrder, keys = operationKeys
        w.key(literal: name)
        w.beginArray()
        for row in rows {
            w.beginObject()
            w.field(literal: "device", deviceName(row.major, row.minor))
            w.field(literal: "major", UInt64(row.major))
            w.field(literal: "minor", UInt64(row.minor))
            w.object(literal: "stats") { w in // the `stats` map (present operations), keys sorted
                for i in order where row.present & (1 << i) != 0 {
                    w.key(keys, i)
                    w.value(withUnsafeBytes(of: row.values) { $0.load(fromByteOffset: i * 8, as: UInt64.self) })
                }
            }
            w.endObject()
        }
        w.endArray()
    }

    static func writeDiskIO(_ d: DiskIOSample, _ w: inout JSONWriter, _ deviceName: DeviceNamer) {
        writeDiskTable("io_service_bytes", d.ioServiceBytes, &w, deviceName)
        writeDiskTable("io_serviced", d.ioServiced, &w, deviceName)
        writeDiskTable("io_cost_usage", d.ioCostUsage, &w, deviceName)
        writeDiskTable("io_cost_wait", d.ioCostWait, &w, deviceName)
        writeDiskTable("io_cost_indebt", d.ioCostIndebt, &w, deviceName)
        writeDiskTable("io_cost_indelay", d.ioCostIndelay, &w, deviceName)
        writePSI(d.pressure, &w)
    }

    static func writeInterface(_ i: NetInterfaceStats, _ w: inout JSONWriter) {
        w.field(literal: "name", i.name)
        w.field(literal: "rx_bytes", i.rxBytes)
        w.field(literal: "rx_packets", i.rxPackets)
        w.field(literal: "rx_errors", i.rxErrors)
        w.field(literal: "rx_dropped", i.rxDropped)
        w.field(literal: "tx_bytes", i.txBytes)
        w.field(literal: "tx_packets", i.txPackets)
        w.field(literal: "tx_errors", i.txErrors)
        w.field(literal: "tx_dropped", i.txDropped)
    }

    /// FsStats' disk I/O fields, in `FilesystemStats.io` order.
    private static let filesystemIOKeys = PreEscapedKeys([
        "reads_completed", "reads_merged", "sectors_read", "read_time", "writes_completed", "writes_merged",
        "sectors_written", "write_time", "io_in_progress", "io_time", "weighted_io_time"])

    static func writeFilesystem(_ fs: FilesystemStats, _ w: inout JSONWriter) {
        w.beginObject()
        w.field(literal: "device", fs.device)
        w.field(literal: "type", fs.type)
        w.field(literal: "capacity", fs.capacity)
        w.field(literal: "usage", fs.usage)
        w.field(literal: "base_usage", fs.baseUsage)
        w.field(literal: "available", fs.available)
        w.field(literal: "has_inodes", fs.inodes > 0)
        w.field(literal: "inodes", fs.inodes)
        w.field(literal: "inodes_free", fs.inodesFree)
        let keys = filesystemIOKeys
        for i in 0..<keys.count {
            w.key(keys, i)
            w.value(i < fs.io.count ? fs.io[i] : 0)
        }
        w.endObject()
    }

    private static let tcpKeys = PreEscapedKeys(TCPStats.names)
    private static let tcpAdvancedKeys = PreEscapedKeys(TCPAdvancedStats.fields)
    private static let emptyInterface = NetInterfaceStats(name: "", rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0,
                                                          txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0)

    private static func writeTCP(_ name: StaticString, _ tcp: TCPStats?, _ keys: PreEscapedKeys, _ w: inout JSONWriter) {
        w.object(literal: name) { w in
            for i in 0..<keys.count {
                w.key(keys, i)
                w.value(tcp.map { $0.states[i] } ?? 0)
            }
        }
    }

    private static func writeUDP(_ name: StaticString, _ udp: UDPStats?, _ w: inout JSONWriter) {
        let udp = udp ?? UDPStats()
        w.object(literal: name) { w in
            w.field(literal: "Listen", udp.listen)
            w.field(literal: "Dropped", udp.dropped)
            w.field(literal: "RxQueued", udp.rxQueued)
            w.field(literal: "TxQueued", udp.txQueued)
        }
    }

    /// v1 NetworkStats (`flattened`: the first interface repeated at the top level "for backwards
    /// compatibility"), or v2.1's NetworkStats without it.
    static func writeNetwork(_ s: ContainerSample, flattened: Bool, _ w: inout JSONWriter) {
        let interfaces = s.network, connections = s.connections
        if flattened { writeInterface(interfaces.first ?? emptyInterface, &w) }
        if !interfaces.isEmpty {
            w.key(literal: "interfaces")
            w.beginArray()
            for i in interfaces {
                w.beginObject()
                writeInterface(i, &w)
                w.endObject()
            }
            w.endArray()
        }
        let tcpKeys = tcpKeys
        writeTCP("tcp", connections?.tcp, tcpKeys, &w)
        writeTCP("tcp6", connections?.tcp6, tcpKeys, &w)
        writeUDP("udp", connections?.udp, &w)
        writeUDP("udp6", connections?.udp6, &w)
        let keys = tcpAdvancedKeys, advanced = connections?.advanced
        w.object(literal: "tcp_advanced") { w in
            for i in 0..<keys.count {
                w.key(keys, i)
                let v = advanced.map { $0.values[i] } ?? 0
                if i == TCPAdvancedStats.maxConnIndex {
                    w.value(Int64(bitPattern: v))
                } else {
                    w.value(v)
                }
            }
        }
    }
}
