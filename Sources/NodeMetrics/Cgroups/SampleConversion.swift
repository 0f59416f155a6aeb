import CCgroupFast

/// Converts the C core's structs into the Swift value types, in cAdvisor's units and names.
enum SampleConversion {
    static func sample(_ s: UnsafePointer<cgf_sample>, handle: UnsafePointer<cgf_cgroup>,
                       mode: CgroupMode, includeMemoryStat: Bool) -> ContainerSample {
        var out = ContainerSample()
        var parts = ContainerSample.Parts() // assigned once at the end: one box per sample
        out.timestampNanos = s.pointee.timestamp_ns
        let status = cgf_sample_status(s)
        func ok(_ f: cgf_sample_file) -> Bool { status[Int(f.rawValue)] == Int8(CGF_OK) }

        out.cpu.usage.total = s.pointee.cpu.usage_total_ns
        out.cpu.usage.user = s.pointee.cpu.usage_user_ns
        out.cpu.usage.system = s.pointee.cpu.usage_system_ns
        out.cpu.usage.perCPU = Array(UnsafeBufferPointer(start: cgf_sample_per_cpu(s),
                                                         count: Int(s.pointee.cpu.per_cpu_count)))
        out.cpu.cfs.periods = s.pointee.cpu.nr_periods
        out.cpu.cfs.throttledPeriods = s.pointee.cpu.nr_throttled
        out.cpu.cfs.throttledTime = s.pointee.cpu.throttled_time_ns
        out.cpu.cfs.burstsPeriods = s.pointee.cpu.nr_bursts
        out.cpu.cfs.burstTime = s.pointee.cpu.burst_time_ns
        parts.cpuPressure = ok(CGF_F_CPU_PRESSURE) ? pressure(s.pointee.cpu.psi) : nil

        var mem = MemorySample()
        mem.usage = s.pointee.memory.usage
        mem.maxUsage = s.pointee.memory.max_usage
        mem.cache = s.pointee.memory.cache
        mem.rss = s.pointee.memory.rss
        mem.swap = s.pointee.memory.swap
        mem.mappedFile = s.pointee.memory.mapped_file
        mem.workingSet = s.pointee.memory.working_set
        mem.totalActiveFile = s.pointee.memory.total_active_file
        mem.totalInactiveFile = s.pointee.memory.total_inactive_file
        mem.fileDirty = s.pointee.memory.file_dirty
        mem.fileWriteback = s.pointee.memory.file_writeback
        mem.pgscan = s.pointee.memory.pgscan
        mem.pgsteal = s.pointee.memory.pgsteal
        mem.workingsetRefaultFile = s.pointee.memory.workingset_refault_file
        mem.workingsetRefaultAnon = s.pointee.memory.workingset_refault_anon
        mem.failcnt = s.pointee.memory.failcnt
        mem.kernelUsage = s.pointee.memory.kernel_usage
        mem.memswUsage = s.pointee.memory.memsw_usage
        mem.pgfault = s.pointee.memory.pgfault
        mem.pgmajfault = s.pointee.memory.pgmajfault
        mem.hierarchicalPgfault = s.pointee.memory.hierarchical_pgfault
        mem.hierarchicalPgmajfault = s.pointee.memory.hierarchical_pgmajfault
        var events = MemoryEvents()
        events.low = s.pointee.memory.events_low
        events.high = s.pointee.memory.events_high
        events.max = s.pointee.memory.events_max
        events.oom = s.pointee.memory.events_oom
        events.oomKill = s.pointee.memory.events_oom_kill
        out.memory = mem
        parts.memoryEvents = events
        parts.memoryPressure = ok(CGF_F_MEMORY_PRESSURE) ? pressure(s.pointee.memory.psi) : nil
        if includeMemoryStat { parts.memoryStat = keyValues(cgf_sample_memory_stat(s)) }

        var io = DiskIOSample()
        if mode == .v2 {
            do {
                let t = cgf_sample_io_stat(s)
                io.ioServiceBytes = devices(t, [(Int(CGF_IOSTAT_RBYTES), "Read"), (Int(CGF_IOSTAT_WBYTES), "Write")])
                io.ioServiced = devices(t, [(Int(CGF_IOSTAT_RIOS), "Read"), (Int(CGF_IOSTAT_WIOS), "Write")])
                io.ioCostUsage = devices(t, [(Int(CGF_IOSTAT_COST_USAGE), "Count")])
                io.ioCostWait = devices(t, [(Int(CGF_IOSTAT_COST_WAIT), "Count")])
                io.ioCostIndebt = devices(t, [(Int(CGF_IOSTAT_COST_INDEBT), "Count")])
                io.ioCostIndelay = devices(t, [(Int(CGF_IOSTAT_COST_INDELAY), "Count")])
            }
        } else {
            let ops = [(Int(CGF_BLKIO_READ), "Read"), (Int(CGF_BLKIO_WRITE), "Write"), (Int(CGF_BLKIO_SYNC), "Sync"),
                       (Int(CGF_BLKIO_ASYNC), "Async"), (Int(CGF_BLKIO_DISCARD), "Discard"),
                       (Int(CGF_BLKIO_TOTAL), "Total")]
            io.ioServiceBytes = devices(cgf_sample_io_service_bytes(s), ops)
            io.ioServiced = devices(cgf_sample_io_serviced(s), ops)
        }
        io.pressure = ok(CGF_F_IO_PRESSURE) ? pressure(s.pointee.io.psi) : nil
        parts.diskIO = io

        out.pids.current = s.pointee.pids_current
        out.pids.max = s.pointee.pids_max

        var hugetlb: [HugetlbSample] = []
        var errors: [SampleFileError] = []
        let huge = cgf_sample_hugetlb(s)
        for i in 0..<Int(s.pointee.hugetlb_count) {
            var h = HugetlbSample(pageSize: cadvisorPageSize(String(cString: cgf_hugetlb_size(huge + i))))
            h.usage = huge[i].usage
            h.maxUsage = huge[i].max_usage
            h.failcnt = huge[i].failcnt
            hugetlb.append(h)
            if huge[i].status < 0 {
                errors.append(SampleFileError(file: "hugetlb.\(h.pageSize).*", reason: Status.text(Int32(huge[i].status))))
            }
        }

        for f in 0..<Int(CGF_F_COUNT.rawValue) where status[f] < 0 {
            let file = cgf_cgroup_file_name(handle, Int32(f)).map { String(cString: $0) } ?? "file \(f)"
            errors.append(SampleFileError(file: file, reason: Status.text(Int32(status[f]))))
        }
        if !hugetlb.isEmpty { parts.hugetlb = hugetlb }
        if !errors.isEmpty { parts.errors = errors }
        out.parts = parts
        return out
    }

    static func spec(_ s: UnsafePointer<cgf_spec>, mode: CgroupMode) -> CgroupSpec {
        let c = s.pointee
        var out = CgroupSpec()
        out.hasCPU = c.has_cpu != 0
        out.hasMemory = c.has_memory != 0
        out.hasCPUSet = c.has_cpuset != 0
        out.hasPids = c.has_pids != 0
        out.hasDiskIO = c.has_blkio != 0
        out.hasHugetlb = c.has_hugetlb != 0
        out.cpuShares = c.cpu_shares
        out.cpuQuota = c.cpu_quota_us
        out.cpuPeriod = c.cpu_period_us
        out.cpuMask = String(cString: cgf_spec_cpuset_cpus(s))
        out.memoryNodes = String(cString: cgf_spec_cpuset_mems(s))
        out.memoryLimit = c.memory_limit
        out.memoryReservation = c.memory_reservation
        out.memorySwapLimit = c.memory_swap_limit
        out.memoryLow = c.memory_low
        out.memoryHigh = c.memory_high
        out.pidsMax = c.pids_max
        let status = cgf_spec_status(s)
        for f in 0..<Int(CGF_S_COUNT.rawValue) where status[f] < 0 {
            out.errors.append(SampleFileError(file: specFileNames[mode == .v2 ? 1 : 0][f],
                                              reason: Status.text(Int32(status[f]))))
        }
        return out
    }

    /// Kernel file names of the spec files for error messages, [v1, v2], in cgf_spec_file order.
    static let specFileNames: [[String]] = [
        ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.weight", "cpu.max", "cpuset.cpus",
         "cpuset.mems", "memory.limit_in_bytes", "memory.soft_limit_in_bytes", "memory.memsw.limit_in_bytes",
         "memory.low", "memory.high", "memory.use_hierarchy", "pids.max"],
        ["cpu.shares", "cpu.cfs_quota_us", "cpu.cfs_period_us", "cpu.weight", "cpu.max", "cpuset.cpus.effective",
         "cpuset.mems.effective", "memory.max", "memory.min", "memory.swap.max", "memory.low", "memory.high",
         "memory.use_hierarchy", "pids.max"],
    ]

    static func pressure(_ p: cgf_psi) -> PressureStats {
        func line(_ l: cgf_psi_line) -> PressureData {
            var d = PressureData()
            d.total = l.total_us
            d.avg10 = Double(l.avg10_x100) / 100
            d.avg60 = Double(l.avg60_x100) / 100
            d.avg300 = Double(l.avg300_x100) / 100
            return d
        }
        var out = PressureStats()
        out.some = line(p.some)
        if p.has_full != 0 { out.full = line(p.full) }
        return out
    }

    static func keyValues(_ list: UnsafePointer<cgf_kv_list>) -> [(key: String, value: UInt64)] {
        let items = cgf_kv_items(list)
        return (0..<Int(list.pointee.count)).map { i in
            (key: String(cString: cgf_kv_key(items + i)), value: items[i].value)
        }
    }

    /// The devices of a table, with the listed value slots under cAdvisor's operation names.
    /// Devices that have none of the slots are left out.
    static func devices(_ table: UnsafePointer<cgf_io_table>, _ slots: [(Int, String)]) -> [DiskDeviceStats] {
        let rows = cgf_io_devices(table)
        var out: [DiskDeviceStats] = []
        for i in 0..<Int(table.pointee.count) {
            let values = cgf_io_values(rows + i)
            var device = DiskDeviceStats(major: rows[i].major, minor: rows[i].minor)
            for (slot, op) in slots where rows[i].present & (1 << UInt32(slot)) != 0 { device[op] = values[slot] }
            if device.present != 0 { out.append(device) }
        }
        return out
    }

    /// "2MB" -> "2Mi", "1GB" -> "1Gi", "64KB" -> "64Ki" (cAdvisor's hugetlb keys).
    static func cadvisorPageSize(_ kernelName: String) -> String {
        for (suffix, unit) in [("KB", "Ki"), ("MB", "Mi"), ("GB", "Gi")] where kernelName.hasSuffix(suffix) {
            return kernelName.dropLast(2) + unit
        }
        return kernelName
    }
}
