import CCgroupFast

/// Converts the C core's structs into the Swift value types, in cAdvisor's units and names.
enum SampleConversion {
    static func sample(_ s: UnsafePointer<cgf_sample>, handle: UnsafePointer<cgf_cgroup>,
                       mode: CgroupMode, includeMemoryStat: Bool) -> ContainerSample {
        let c = s.pointee
        var out = ContainerSample()
        out.timestampNanos = c.timestamp_ns
        let status = cgf_sample_status(s)!
        func ok(_ f: cgf_sample_file) -> Bool { status[Int(f.rawValue)] == Int8(CGF_OK) }

        out.cpu.usage.total = c.cpu.usage_total_ns
        out.cpu.usage.user = c.cpu.usage_user_ns
        out.cpu.usage.system = c.cpu.usage_system_ns
        out.cpu.usage.perCPU = Array(UnsafeBufferPointer(start: cgf_sample_per_cpu(s),
                                                         count: Int(c.cpu.per_cpu_count)))
        out.cpu.cfs.periods = c.cpu.nr_periods
        out.cpu.cfs.throttledPeriods = c.cpu.nr_throttled
        out.cpu.cfs.throttledTime = c.cpu.throttled_time_ns
        out.cpu.cfs.burstsPeriods = c.cpu.nr_bursts
        out.cpu.cfs.burstTime = c.cpu.burst_time_ns
        out.cpu.pressure = ok(CGF_F_CPU_PRESSURE) ? pressure(c.cpu.psi) : nil

        let m = c.memory
        var mem = MemorySample()
        mem.usage = m.usage
        mem.maxUsage = m.max_usage
        mem.cache = m.cache
        mem.rss = m.rss
        mem.swap = m.swap
        mem.mappedFile = m.mapped_file
        mem.workingSet = m.working_set
        mem.totalActiveFile = m.total_active_file
        mem.totalInactiveFile = m.total_inactive_file
        mem.fileDirty = m.file_dirty
        mem.fileWriteback = m.file_writeback
        mem.pgscan = m.pgscan
        mem.pgsteal = m.pgsteal
        mem.workingsetRefaultFile = m.workingset_refault_file
        mem.workingsetRefaultAnon = m.workingset_refault_anon
        mem.failcnt = m.failcnt
        mem.kernelUsage = m.kernel_usage
        mem.memswUsage = m.memsw_usage
        mem.pgfault = m.pgfault
        mem.pgmajfault = m.pgmajfault
        mem.hierarchicalPgfault = m.hierarchical_pgfault
        mem.hierarchicalPgmajfault = m.hierarchical_pgmajfault
        mem.events = MemoryEvents()
        mem.events.low = m.events_low
        mem.events.high = m.events_high
        mem.events.max = m.events_max
        mem.events.oom = m.events_oom
        mem.events.oomKill = m.events_oom_kill
        if includeMemoryStat { mem.stat = keyValues(cgf_sample_memory_stat(s)) }
        mem.pressure = ok(CGF_F_MEMORY_PRESSURE) ? pressure(m.psi) : nil
        out.memory = mem

        if mode == .v2 {
            do {
                let t = cgf_sample_io_stat(s)!
                out.diskIO.ioServiceBytes = devices(t, [(Int(CGF_IOSTAT_RBYTES), "Read"), (Int(CGF_IOSTAT_WBYTES), "Write")])
                out.diskIO.ioServiced = devices(t, [(Int(CGF_IOSTAT_RIOS), "Read"), (Int(CGF_IOSTAT_WIOS), "Write")])
                out.diskIO.ioCostUsage = devices(t, [(Int(CGF_IOSTAT_COST_USAGE), "Count")])
                out.diskIO.ioCostWait = devices(t, [(Int(CGF_IOSTAT_COST_WAIT), "Count")])
                out.diskIO.ioCostIndebt = devices(t, [(Int(CGF_IOSTAT_COST_INDEBT), "Count")])
                out.diskIO.ioCostIndelay = devices(t, [(Int(CGF_IOSTAT_COST_INDELAY), "Count")])
            }
        } else {
            let ops = [(Int(CGF_BLKIO_READ), "Read"), (Int(CGF_BLKIO_WRITE), "Write"), (Int(CGF_BLKIO_SYNC), "Sync"),
                       (Int(CGF_BLKIO_ASYNC), "Async"), (Int(CGF_BLKIO_DISCARD), "Discard"),
                       (Int(CGF_BLKIO_TOTAL), "Total")]
            out.diskIO.ioServiceBytes = devices(cgf_sample_io_service_bytes(s), ops)
            out.diskIO.ioServiced = devices(cgf_sample_io_serviced(s), ops)
        }
        out.diskIO.pressure = ok(CGF_F_IO_PRESSURE) ? pressure(c.io.psi) : nil

        out.pids.current = c.pids_current
        out.pids.max = c.pids_max

        let huge = cgf_sample_hugetlb(s)!
        for i in 0..<Int(c.hugetlb_count) {
            var h = HugetlbSample(pageSize: cadvisorPageSize(String(cString: cgf_hugetlb_size(huge + i))))
            h.usage = huge[i].usage
            h.maxUsage = huge[i].max_usage
            h.failcnt = huge[i].failcnt
            out.hugetlb.append(h)
            if huge[i].status < 0 {
                out.errors.append(SampleFileError(file: "hugetlb.\(h.pageSize).*", reason: Status.text(Int32(huge[i].status))))
            }
        }

        for f in 0..<Int(CGF_F_COUNT.rawValue) where status[f] < 0 {
            let file = cgf_cgroup_file_name(handle, Int32(f)).map { String(cString: $0) } ?? "file \(f)"
            out.errors.append(SampleFileError(file: file, reason: Status.text(Int32(status[f]))))
        }
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
        let status = cgf_spec_status(s)!
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
        let items = cgf_kv_items(list)!
        return (0..<Int(list.pointee.count)).map { i in
            (key: String(cString: cgf_kv_key(items + i)), value: items[i].value)
        }
    }

    /// The devices of a table, with the listed value slots under cAdvisor's operation names.
    /// Devices that have none of the slots are left out.
    static func devices(_ table: UnsafePointer<cgf_io_table>, _ slots: [(Int, String)]) -> [DiskDeviceStats] {
        let rows = cgf_io_devices(table)!
        var out: [DiskDeviceStats] = []
        for i in 0..<Int(table.pointee.count) {
            let values = cgf_io_values(rows + i)!
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
