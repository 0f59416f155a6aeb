/// One container as a scrape sees it: its newest sample, spec and metadata. A class, so handing it to
/// each family costs one reference count, not a copy of everything it holds.
final class ContainerView {
    let snapshot: ContainerSnapshot
    let sample: ContainerSample
    /// Resolves block device numbers to `/dev/<name>`.
    let deviceName: CAdvisorV1Stats.DeviceNamer
    /// Scrape time, seconds since the epoch.
    let now: Double
    var spec: CgroupSpec { snapshot.spec }

    init(snapshot: ContainerSnapshot, sample: ContainerSample, deviceName: @escaping CAdvisorV1Stats.DeviceNamer, now: Double) {
        self.snapshot = snapshot
        self.sample = sample
        self.deviceName = deviceName
        self.now = now
    }
}

/// One `container_*` family: cAdvisor's name, help, type and extra labels, the metric kind that
/// enables it (nil: always), whether its samples carry the stats timestamp, the spec condition
/// cAdvisor puts on it, and how its values come from a container (both given the view, so that
/// nothing of it is copied per family).
struct ContainerFamily: Sendable {
    let name: String
    let help: String
    let type: PrometheusMetricType
    let kind: MetricKind?
    let extraLabels: [String]
    let timestamped: Bool
    let condition: (@Sendable (ContainerView) -> Bool)?
    let values: @Sendable (ContainerView, inout MetricSeriesSink) -> Void

    init(_ name: String, _ type: PrometheusMetricType, _ kind: MetricKind?, _ help: String, labels: [String] = [],
         timestamped: Bool = true, condition: (@Sendable (ContainerView) -> Bool)? = nil,
         _ values: @escaping @Sendable (ContainerView, inout MetricSeriesSink) -> Void) {
        self.name = name
        self.help = help
        self.type = type
        self.kind = kind
        extraLabels = labels
        self.timestamped = timestamped
        self.condition = condition
        self.values = values
    }
}

@inline(__always) func seconds(nanos v: UInt64) -> Double { Double(v) / 1e9 }
@inline(__always) func seconds(micros v: UInt64) -> Double { Double(v) / 1e6 }

/// cAdvisor reports memory limits above 2^62 (unlimited) as 0.
@inline(__always) func specMemoryValue(_ v: UInt64) -> Double { v > 1 << 62 ? 0 : Double(v) }

/// `cpu00`, `cpu01`, … as cAdvisor labels per-CPU usage.
let perCPULabels: [String] = (0..<1024).map { $0 < 10 ? "cpu0\($0)" : "cpu\($0)" }

extension ContainerFamily {
    /// Every container family cAdvisor's collector has (HEAD), sorted by name. Families of kinds
    /// this agent does not collect (perf_event, resctrl, app) are left out rather than exported as zeros.
    static let all: [ContainerFamily] = {
        var f: [ContainerFamily] = []
        let quotaSet: @Sendable (ContainerView) -> Bool = { $0.snapshot.spec.cpuQuota != 0 }

        // (always)
        f.append(.init("container_creation_time_seconds", .gauge, nil, "Container creation time since unix epoch in seconds.",
                       timestamped: false) { c, s in s.add(Double(c.snapshot.creationTimeNanos / 1_000_000_000)) })
        f.append(.init("container_health_state", .gauge, nil, "The result of the container's health check") { c, s in
            s.add(Double(c.snapshot.metadata.health))
        })
        f.append(.init("container_last_seen", .gauge, nil, "Last time a container was seen by the exporter") { c, s in
            s.add(c.now.rounded(.down))
        })
        f.append(.init("container_spec_cpu_period", .gauge, nil, "CPU period of the container.", timestamped: false,
                       condition: { $0.snapshot.spec.hasCPU }) { c, s in s.add(Double(c.spec.cpuPeriod)) })
        f.append(.init("container_spec_cpu_quota", .gauge, nil, "CPU quota of the container.", timestamped: false,
                       condition: { $0.snapshot.spec.hasCPU && $0.snapshot.spec.cpuQuota != 0 }) { c, s in s.add(Double(c.spec.cpuQuota)) })
        f.append(.init("container_spec_cpu_shares", .gauge, nil, "CPU share of the container.", timestamped: false,
                       condition: { $0.snapshot.spec.hasCPU }) { c, s in s.add(Double(c.spec.cpuShares)) })
        f.append(.init("container_spec_memory_limit_bytes", .gauge, nil, "Memory limit for the container.",
                       timestamped: false, condition: { $0.snapshot.spec.hasMemory }) { c, s in s.add(specMemoryValue(c.spec.memoryLimit)) })
        f.append(.init("container_spec_memory_reservation_limit_bytes", .gauge, nil,
                       "Memory reservation limit for the container.", timestamped: false,
                       condition: { $0.snapshot.spec.hasMemory }) { c, s in s.add(specMemoryValue(c.spec.memoryReservation)) })
        f.append(.init("container_spec_memory_swap_limit_bytes", .gauge, nil, "Memory swap limit for the container.",
                       timestamped: false, condition: { $0.snapshot.spec.hasMemory }) { c, s in s.add(specMemoryValue(c.spec.memorySwapLimit)) })
        f.append(.init("container_start_time_seconds", .gauge, nil, "Start time of the container since unix epoch in seconds.",
                       timestamped: false) { c, s in s.add(Double(c.snapshot.creationTimeNanos / 1_000_000_000)) })

        // cpu
        f.append(.init("container_cpu_cfs_burst_periods_total", .counter, .cpu, "Number of periods when burst occurs.",
                       condition: quotaSet) { c, s in s.add(Double(c.sample.cpu.cfs.burstsPeriods)) })
        f.append(.init("container_cpu_cfs_burst_seconds_total", .counter, .cpu, "Total time duration the container has been bursted.",
                       condition: quotaSet) { c, s in s.add(seconds(nanos: c.sample.cpu.cfs.burstTime)) })
        f.append(.init("container_cpu_cfs_periods_total", .counter, .cpu, "Number of elapsed enforcement period intervals.",
                       condition: quotaSet) { c, s in s.add(Double(c.sample.cpu.cfs.periods)) })
        f.append(.init("container_cpu_cfs_throttled_periods_total", .counter, .cpu, "Number of throttled period intervals.",
                       condition: quotaSet) { c, s in s.add(Double(c.sample.cpu.cfs.throttledPeriods)) })
        f.append(.init("container_cpu_cfs_throttled_seconds_total", .counter, .cpu,
                       "Total time duration the container has been throttled.",
                       condition: quotaSet) { c, s in s.add(seconds(nanos: c.sample.cpu.cfs.throttledTime)) })
        f.append(.init("container_cpu_system_seconds_total", .counter, .cpu, "Cumulative system cpu time consumed in seconds.") { c, s in
            s.add(seconds(nanos: c.sample.cpu.usage.system))
        })
        f.append(.init("container_cpu_usage_seconds_total", .counter, .cpu, "Cumulative cpu time consumed in seconds.",
                       labels: ["cpu"]) { c, s in
            // Per CPU when the percpu kind is on and the cgroup has per-CPU data (v1); else "total".
            let perCPU = c.sample.cpu.usage.perCPU
            if perCPU.isEmpty {
                if c.sample.cpu.usage.total > 0 { s.add(seconds(nanos: c.sample.cpu.usage.total), "total") }
                return
            }
            for (i, v) in perCPU.enumerated() where v > 0 {
                s.add(seconds(nanos: v), i < perCPULabels.count ? perCPULabels[i] : "cpu\(i)")
            }
        })
        f.append(.init("container_cpu_user_seconds_total", .counter, .cpu, "Cumulative user cpu time consumed in seconds.") { c, s in
            s.add(seconds(nanos: c.sample.cpu.usage.user))
        })

        // sched
        f.append(.init("container_cpu_schedstat_run_periods_total", .counter, .sched,
                       "Number of times processes of the cgroup have run on the cpu") { c, s in
            s.add(Double(c.sample.schedstat.runPeriods))
        })
        f.append(.init("container_cpu_schedstat_run_seconds_total", .counter, .sched,
                       "Time duration the processes of the container have run on the CPU.") { c, s in
            s.add(seconds(nanos: c.sample.schedstat.runTime))
        })
        f.append(.init("container_cpu_schedstat_runqueue_seconds_total", .counter, .sched,
                       "Time duration processes of the container have been waiting on a runqueue.") { c, s in
            s.add(seconds(nanos: c.sample.schedstat.runqueueTime))
        })

        // memory_numa, referenced_memory, cpuset
        f.append(.init("container_memory_numa_pages", .gauge, .memoryNuma, "Number of used pages per NUMA node",
                       labels: ["type", "scope", "node"]) { c, s in
            for (scope, pages) in [("container", c.sample.numa.container), ("hierarchy", c.sample.numa.hierarchical)] {
                for (type, perNode) in pages.byType {
                    for (node, v) in perNode.enumerated() { s.add(Double(v), type, scope, String(node)) }
                }
            }
        })
        f.append(.init("container_referenced_bytes", .gauge, .referencedMemory,
                       "Container referenced bytes during last measurements cycle") { c, s in
            s.add(Double(c.sample.referencedBytes))
        })
        f.append(.init("container_memory_migrate", .gauge, .cpuset, "Memory migrate status.") { c, s in
            s.add(Double(c.sample.memoryMigrate))
        })

        // memory
        f.append(.init("container_memory_cache", .gauge, .memory, "Number of bytes of page cache memory.") { c, s in
            s.add(Double(c.sample.memory.cache))
        })
        f.append(.init("container_memory_events_high_total", .counter, .memory,
                       "Cumulative count of memory.high throttle events for the container") { c, s in
            s.add(Double(c.sample.memoryEvents.high))
        })
        f.append(.init("container_memory_events_max_total", .counter, .memory,
                       "Cumulative count of memory.max limit hit events for the container") { c, s in
            s.add(Double(c.sample.memoryEvents.max))
        })
        f.append(.init("container_memory_failcnt", .counter, .memory, "Number of memory usage hits limits") { c, s in
            s.add(Double(c.sample.memory.failcnt))
        })
        f.append(.init("container_memory_failures_total", .counter, .memory, "Cumulative count of memory allocation failures.",
                       labels: ["failure_type", "scope"]) { c, s in
            let m = c.sample.memory
            s.add(Double(m.pgfault), "pgfault", "container")
            s.add(Double(m.pgmajfault), "pgmajfault", "container")
            s.add(Double(m.hierarchicalPgfault), "pgfault", "hierarchy")
            s.add(Double(m.hierarchicalPgmajfault), "pgmajfault", "hierarchy")
        })
        f.append(.init("container_memory_file_dirty_bytes", .gauge, .memory,
                       "Number of bytes of file cache that has been modified but not yet written back to disk.") { c, s in
            s.add(Double(c.sample.memory.fileDirty))
        })
        f.append(.init("container_memory_file_writeback_bytes", .gauge, .memory,
                       "Number of bytes of file cache that is currently being written back to disk.") { c, s in
            s.add(Double(c.sample.memory.fileWriteback))
        })
        f.append(.init("container_memory_kernel_usage", .gauge, .memory, "Size of kernel memory allocated in bytes.") { c, s in
            s.add(Double(c.sample.memory.kernelUsage))
        })
        f.append(.init("container_memory_mapped_file", .gauge, .memory, "Size of memory mapped files in bytes.") { c, s in
            s.add(Double(c.sample.memory.mappedFile))
        })
        f.append(.init("container_memory_max_usage_bytes", .gauge, .memory, "Maximum memory usage recorded in bytes") { c, s in
            s.add(Double(c.sample.memory.maxUsage))
        })
        f.append(.init("container_memory_pgscan_total", .counter, .memory,
                       "Cumulative number of pages scanned by the page reclaim algorithm.") { c, s in
            s.add(Double(c.sample.memory.pgscan))
        })
        f.append(.init("container_memory_pgsteal_total", .counter, .memory,
                       "Cumulative number of pages reclaimed by the page reclaim algorithm.") { c, s in
            s.add(Double(c.sample.memory.pgsteal))
        })
        f.append(.init("container_memory_rss", .gauge, .memory, "Size of RSS in bytes.") { c, s in
            s.add(Double(c.sample.memory.rss))
        })
        f.append(.init("container_memory_swap", .gauge, .memory, "Container swap usage in bytes.") { c, s in
            s.add(Double(c.sample.memory.swap))
        })
        f.append(.init("container_memory_total_active_file_bytes", .gauge, .memory, "Current total active file in bytes.") { c, s in
            s.add(Double(c.sample.memory.totalActiveFile))
        })
        f.append(.init("container_memory_total_inactive_file_bytes", .gauge, .memory, "Current total inactive file in bytes.") { c, s in
            s.add(Double(c.sample.memory.totalInactiveFile))
        })
        f.append(.init("container_memory_usage_bytes", .gauge, .memory,
                       "Current memory usage in bytes, including all memory regardless of when it was accessed") { c, s in
            s.add(Double(c.sample.memory.usage))
        })
        f.append(.init("container_memory_working_set_bytes", .gauge, .memory, "Current working set in bytes.") { c, s in
            s.add(Double(c.sample.memory.workingSet))
        })
        f.append(.init("container_memory_workingset_refault_anon_total", .counter, .memory,
                       "Cumulative number of refaults of previously evicted anonymous pages.") { c, s in
            s.add(Double(c.sample.memory.workingsetRefaultAnon))
        })
        f.append(.init("container_memory_workingset_refault_file_total", .counter, .memory,
                       "Cumulative number of refaults of previously evicted file pages.") { c, s in
            s.add(Double(c.sample.memory.workingsetRefaultFile))
        })

        // cpuLoad: cAdvisor exports these as 0 without its netlink load reader; so does this agent.
        f.append(.init("container_cpu_load_average_10s", .gauge, .cpuLoad,
                       "Value of container cpu load average over the last 10 seconds.") { _, s in s.add(0) })
        f.append(.init("container_cpu_load_d_average_10s", .gauge, .cpuLoad,
                       "Value of container cpu load.d average over the last 10 seconds.") { _, s in s.add(0) })
        f.append(.init("container_tasks_state", .gauge, .cpuLoad, "Number of tasks in given state", labels: ["state"]) { _, s in
            for state in ["sleeping", "running", "stopped", "uninterruptible", "iowaiting"] { s.add(0, state) }
        })

        // diskIO: per-device cgroup counters merged with the per-filesystem /proc/diskstats counters.
        // A device that has both (a container's root filesystem on a disk its cgroup did I/O to, as on
        // every v2 host) is exported once, from the cgroup's own counters: cAdvisor exports it twice
        // with the same labels, which Prometheus rejects as duplicate samples.
        // The rows are picked from the view by a function, not by a key path on DiskIOSample: that
        // copies the whole DiskIOSample (a reference count per array) for every container and family.
        func io(_ rows: (@Sendable (ContainerView) -> [DiskDeviceStats])?, _ op: String, _ scale: @escaping @Sendable (UInt64) -> Double,
                _ fsColumn: Int?, _ fsScale: @escaping @Sendable (UInt64) -> Double)
            -> @Sendable (ContainerView, inout MetricSeriesSink) -> Void {
            guard let opIndex = DiskDeviceStats.operations.firstIndex(of: op) else {
                preconditionFailure("no disk operation \(op)") // a literal below: caught by any scrape test
            }
            return { c, s in
                var fromCgroup: [String] = []
                if let rows {
                    for row in rows(c) {
                        let device = c.deviceName(row.major, row.minor)
                        if fsColumn != nil { fromCgroup.append(device) }   // only needed to skip the fs rows
                        s.add(scale(row[operation: opIndex] ?? 0), device)
                    }
                }
                if let fsColumn {
                    for fs in c.sample.filesystems where !fromCgroup.contains(fs.device) {
                        s.add(fsScale(fsColumn < fs.io.count ? fs.io[fsColumn] : 0), fs.device)
                    }
                }
            }
        }
        let plain: @Sendable (UInt64) -> Double = { Double($0) }
        // cAdvisor's quirk: diskstats milliseconds divided by 1e9 as if they were nanoseconds.
        let quirkSeconds: @Sendable (UInt64) -> Double = { Double($0) / 1e9 }
        let micros: @Sendable (UInt64) -> Double = { Double($0) / 1e6 }
        f.append(.init("container_blkio_device_usage_total", .counter, .diskIO, "Blkio Device bytes usage",
                       labels: ["device", "major", "minor", "operation"]) { c, s in
            for row in c.sample.diskIO.ioServiceBytes {
                let device = c.deviceName(row.major, row.minor)
                for (i, op) in DiskDeviceStats.operations.enumerated() where row.present & (1 << i) != 0 {
                    s.add(Double(row[operation: i] ?? 0), device, String(row.major), String(row.minor), op)
                }
            }
        })
        f.append(.init("container_fs_io_cost_indebt_seconds_total", .counter, .diskIO, "Cumulative IOCost debt in seconds",
                       labels: ["device"], io({ $0.sample.diskIO.ioCostIndebt }, "Count", micros, nil, plain)))
        f.append(.init("container_fs_io_cost_indelay_seconds_total", .counter, .diskIO, "Cumulative IOCost delay in seconds",
                       labels: ["device"], io({ $0.sample.diskIO.ioCostIndelay }, "Count", micros, nil, plain)))
        f.append(.init("container_fs_io_cost_usage_seconds_total", .counter, .diskIO, "Cumulative IOCost usage in seconds",
                       labels: ["device"], io({ $0.sample.diskIO.ioCostUsage }, "Count", micros, nil, plain)))
        f.append(.init("container_fs_io_cost_wait_seconds_total", .counter, .diskIO, "Cumulative IOCost wait in seconds",
                       labels: ["device"], io({ $0.sample.diskIO.ioCostWait }, "Count", micros, nil, plain)))
        f.append(.init("container_fs_io_current", .gauge, .diskIO, "Number of I/Os currently in progress",
                       labels: ["device"], io(nil, "Total", plain, 8, plain)))
        f.append(.init("container_fs_io_time_seconds_total", .counter, .diskIO, "Cumulative count of seconds spent doing I/Os",
                       labels: ["device"], io(nil, "Total", plain, 9, quirkSeconds)))
        f.append(.init("container_fs_io_time_weighted_seconds_total", .counter, .diskIO, "Cumulative weighted I/O time in seconds",
                       labels: ["device"], io(nil, "Total", plain, 10, quirkSeconds)))
        f.append(.init("container_fs_read_seconds_total", .counter, .diskIO, "Cumulative count of seconds spent reading",
                       labels: ["device"], io(nil, "Read", plain, 3, quirkSeconds)))
        f.append(.init("container_fs_reads_bytes_total", .counter, .diskIO, "Cumulative count of bytes read",
                       labels: ["device"], io({ $0.sample.diskIO.ioServiceBytes }, "Read", plain, nil, plain)))
        f.append(.init("container_fs_reads_merged_total", .counter, .diskIO, "Cumulative count of reads merged",
                       labels: ["device"], io(nil, "Read", plain, 1, plain)))
        f.append(.init("container_fs_reads_total", .counter, .diskIO, "Cumulative count of reads completed",
                       labels: ["device"], io({ $0.sample.diskIO.ioServiced }, "Read", plain, 0, plain)))
        f.append(.init("container_fs_sector_reads_total", .counter, .diskIO, "Cumulative count of sector reads completed",
                       labels: ["device"], io(nil, "Read", plain, 2, plain)))
        f.append(.init("container_fs_sector_writes_total", .counter, .diskIO, "Cumulative count of sector writes completed",
                       labels: ["device"], io(nil, "Write", plain, 6, plain)))
        f.append(.init("container_fs_write_seconds_total", .counter, .diskIO, "Cumulative count of seconds spent writing",
                       labels: ["device"], io(nil, "Write", plain, 7, quirkSeconds)))
        f.append(.init("container_fs_writes_bytes_total", .counter, .diskIO, "Cumulative count of bytes written",
                       labels: ["device"], io({ $0.sample.diskIO.ioServiceBytes }, "Write", plain, nil, plain)))
        f.append(.init("container_fs_writes_merged_total", .counter, .diskIO, "Cumulative count of writes merged",
                       labels: ["device"], io(nil, "Write", plain, 5, plain)))
        f.append(.init("container_fs_writes_total", .counter, .diskIO, "Cumulative count of writes completed",
                       labels: ["device"], io({ $0.sample.diskIO.ioServiced }, "Write", plain, 4, plain)))

        // disk
        f.append(.init("container_fs_inodes_free", .gauge, .disk, "Number of available Inodes", labels: ["device"]) { c, s in
            for fs in c.sample.filesystems { s.add(Double(fs.inodesFree), fs.device) }
        })
        f.append(.init("container_fs_inodes_total", .gauge, .disk, "Number of Inodes", labels: ["device"]) { c, s in
            for fs in c.sample.filesystems { s.add(Double(fs.inodes), fs.device) }
        })
        f.append(.init("container_fs_limit_bytes", .gauge, .disk,
                       "Number of bytes that can be consumed by the container on this filesystem.", labels: ["device"]) { c, s in
            for fs in c.sample.filesystems { s.add(Double(fs.capacity), fs.device) }
        })
        f.append(.init("container_fs_usage_bytes", .gauge, .disk,
                       "Number of bytes that are consumed by the container on this filesystem.", labels: ["device"]) { c, s in
            for fs in c.sample.filesystems { s.add(Double(fs.usage), fs.device) }
        })

        // network
        let network: [(String, String, @Sendable (NetInterfaceStats) -> UInt64)] = [
            ("receive_bytes_total", "Cumulative count of bytes received", { $0.rxBytes }),
            ("receive_errors_total", "Cumulative count of errors encountered while receiving", { $0.rxErrors }),
            ("receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", { $0.rxDropped }),
            ("receive_packets_total", "Cumulative count of packets received", { $0.rxPackets }),
            ("transmit_bytes_total", "Cumulative count of bytes transmitted", { $0.txBytes }),
            ("transmit_errors_total", "Cumulative count of errors encountered while transmitting", { $0.txErrors }),
            ("transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", { $0.txDropped }),
            ("transmit_packets_total", "Cumulative count of packets transmitted", { $0.txPackets }),
        ]
        for (suffix, help, value) in network {
            f.append(.init("container_network_" + suffix, .counter, .network, help, labels: ["interface"]) { c, s in
                for i in c.sample.network { s.add(Double(value(i)), i.name) }
            })
        }

        // tcp, udp (gauges despite the _total names, as cAdvisor)
        let tcpStates = TCPStats.names.map { $0.lowercased() }
        for (name, help, v6) in [("container_network_tcp_usage_total", "tcp connection usage statistic for container", false),
                                 ("container_network_tcp6_usage_total", "tcp6 connection usage statistic for container", true)] {
            f.append(.init(name, .gauge, .tcp, help, labels: ["tcp_state"]) { c, s in
                let t = (v6 ? c.sample.connections?.tcp6 : c.sample.connections?.tcp) ?? TCPStats()
                for (i, state) in tcpStates.enumerated() { s.add(Double(t.states[i]), state) }
            })
        }
        for (name, help, v6) in [("container_network_udp_usage_total", "udp connection usage statistic for container", false),
                                 ("container_network_udp6_usage_total", "udp6 connection usage statistic for container", true)] {
            f.append(.init(name, .gauge, .udp, help, labels: ["udp_state"]) { c, s in
                let u = (v6 ? c.sample.connections?.udp6 : c.sample.connections?.udp) ?? UDPStats()
                s.add(Double(u.dropped), "dropped")
                s.add(Double(u.listen), "listen")
                s.add(Double(u.rxQueued), "rxqueued")
                s.add(Double(u.txQueued), "txqueued")
            })
        }

        // advtcp: cAdvisor's TcpAdvancedStat fields, lower-cased (a gauge despite the name)
        let advancedStates = TCPAdvancedStats.fields.map { $0.lowercased() }
        f.append(.init("container_network_advance_tcp_stats_total", .gauge, .advtcp,
                       "advance tcp connections statistic for container", labels: ["tcp_state"]) { c, s in
            let a = c.sample.connections?.advanced ?? TCPAdvancedStats()
            for (i, state) in advancedStates.enumerated() { s.add(a.value(at: i), state) }
        })

        // process
        f.append(.init("container_file_descriptors", .gauge, .process, "Number of open file descriptors for the container.") { c, s in
            s.add(Double(c.sample.processes?.fdCount ?? 0))
        })
        f.append(.init("container_processes", .gauge, .process, "Number of processes running inside the container.") { c, s in
            s.add(Double(c.sample.processes?.processCount ?? 0))
        })
        f.append(.init("container_sockets", .gauge, .process, "Number of open sockets for the container.") { c, s in
            s.add(Double(c.sample.processes?.socketCount ?? 0))
        })
        f.append(.init("container_threads", .gauge, .process, "Number of threads running inside the container") { c, s in
            s.add(Double(c.sample.pids.current))
        })
        f.append(.init("container_threads_max", .gauge, .process,
                       "Maximum number of threads allowed inside the container, infinity if value is zero") { c, s in
            s.add(Double(c.sample.pids.max))
        })
        f.append(.init("container_ulimits_soft", .gauge, .process,
                       "Soft ulimit values for the container root process. Unlimited if -1, except priority and nice",
                       labels: ["ulimit"]) { c, s in
            guard let p = c.sample.processes, p.openFilesSoft != nil || p.openFilesHard != nil else { return }
            s.add(p.openFilesSoft.map { Double($0) } ?? -1, "max_open_files")
        })

        // hugetlb
        f.append(.init("container_hugetlb_failcnt", .counter, .hugetlb, "Number of hugepage usage hits limits",
                       labels: ["pagesize"]) { c, s in
            for h in c.sample.hugetlb { s.add(Double(h.failcnt), h.pageSize) }
        })
        f.append(.init("container_hugetlb_max_usage_bytes", .gauge, .hugetlb, "Maximum hugepage usage recorded in bytes",
                       labels: ["pagesize"]) { c, s in
            for h in c.sample.hugetlb { s.add(Double(h.maxUsage), h.pageSize) }
        })
        f.append(.init("container_hugetlb_usage_bytes", .gauge, .hugetlb, "Current hugepage usage in bytes",
                       labels: ["pagesize"]) { c, s in
            for h in c.sample.hugetlb { s.add(Double(h.usage), h.pageSize) }
        })

        // oom_event
        f.append(.init("container_oom_events_total", .counter, .oomEvent,
                       "Count of out of memory events observed for the container") { c, s in
            s.add(Double(c.snapshot.oomEvents))
        })

        // pressure (only where the kernel has PSI for the cgroup)
        let pressure: [(String, String, @Sendable (ContainerView) -> PressureStats?)] = [
            ("cpu", "CPU", { $0.sample.cpuPressure }), ("io", "IO", { $0.sample.diskIO.pressure }),
            ("memory", "memory", { $0.sample.memoryPressure }),
        ]
        for (resource, word, get) in pressure {
            f.append(.init("container_pressure_\(resource)_stalled_seconds_total", .counter, .pressure,
                           "Total time duration no tasks in the container could make progress due to \(word) congestion.") { c, s in
                if let p = get(c) { s.add(seconds(micros: p.full.total)) }
            })
            f.append(.init("container_pressure_\(resource)_waiting_seconds_total", .counter, .pressure,
                           "Total time duration tasks in the container have waited due to \(word) congestion.") { c, s in
                if let p = get(c) { s.add(seconds(micros: p.some.total)) }
            })
        }
        return f.sorted { $0.name < $1.name }
    }()
}
