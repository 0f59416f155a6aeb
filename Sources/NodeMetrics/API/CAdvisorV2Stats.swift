/// cAdvisor's v2 stats (info/v2): v2.0 `DeprecatedContainerStats`, v2.1 `ContainerStats` with
/// `cpu_inst`, and `MachineStats`.
public enum CAdvisorV2Stats {
    /// (cur − last) per second of wall time, as cAdvisor's instantaneous CPU (nanocores); nil when the
    /// counter went backwards (a cgroup recreated under the same name), time did not advance, or the
    /// rate does not fit in 64 bits (a counter that jumped by ~2^64 within a second: no real CPU does).
    static func rate(_ last: UInt64, _ cur: UInt64, _ elapsedNanos: Int64) -> UInt64? {
        guard cur >= last, elapsedNanos > 0 else { return nil }
        let (high, low) = (cur - last).multipliedFullWidth(by: 1_000_000_000)
        let divisor = UInt64(elapsedNanos)
        guard high < divisor else { return nil } // dividingFullWidth traps when the quotient overflows
        return divisor.dividingFullWidth((high, low)).quotient
    }

    /// `cpu_inst` between two consecutive samples; nil for the first sample or a counter reset.
    static func writeCPUInst(_ last: ContainerSample?, _ cur: ContainerSample, _ w: inout JSONWriter) {
        guard let last else { return }
        let dt = cur.timestampNanos.saturatingSubtract(last.timestampNanos)
        guard let total = rate(last.cpu.usage.total, cur.cpu.usage.total, dt),
              let user = rate(last.cpu.usage.user, cur.cpu.usage.user, dt),
              let system = rate(last.cpu.usage.system, cur.cpu.usage.system, dt) else { return }
        let a = last.cpu.usage.perCPU, b = cur.cpu.usage.perCPU
        let perCPU: [UInt64]? = a.count == b.count ? zip(a, b).map { rate($0, $1, dt) ?? 0 } : nil
        w.object("cpu_inst") { w in
            w.object("usage") { w in
                w.field("total", total)
                if let perCPU, !perCPU.isEmpty { w.array("per_cpu_usage", perCPU) { w, v in w.value(v) } }
                w.field("user", user)
                w.field("system", system)
            }
        }
    }

    /// v2.0 `DeprecatedContainerStats` of a container's samples (oldest first).
    public static func writeDeprecated(_ snapshot: ContainerSnapshot, deviceName: CAdvisorV1Stats.DeviceNamer,
                                       _ w: inout JSONWriter) {
        let spec = snapshot.spec
        var last: ContainerSample?
        w.beginArray()
        for s in snapshot.samples {
            w.beginObject()
            w.field(literal: "timestamp", rfc3339Nano: s.timestampNanos)
            w.field("has_cpu", spec.hasCPU)
            w.object("cpu") { w in CAdvisorV1Stats.writeCPU(s, &w) }
            writeCPUInst(last, s, &w)
            w.field("has_diskio", spec.hasDiskIO)
            w.object("diskio") { w in CAdvisorV1Stats.writeDiskIO(s.diskIO, &w, deviceName) }
            w.field("has_memory", spec.hasMemory)
            w.object("memory") { w in CAdvisorV1Stats.writeMemory(s, &w) }
            w.field("has_hugetlb", spec.hasHugetlb)
            if !s.hugetlb.isEmpty { CAdvisorV1Stats.writeHugetlb(s.hugetlb, &w) }
            w.field("has_network", CAdvisorV1Info.hasNetwork(snapshot))
            w.object("network") { w in CAdvisorV1Stats.writeNetwork(s, flattened: true, &w) }
            w.field("has_processes", true)
            CAdvisorV1Stats.writeProcesses(s, &w)
            w.field("has_filesystem", !s.filesystems.isEmpty)
            if !s.filesystems.isEmpty {
                w.array("filesystem", s.filesystems) { w, fs in CAdvisorV1Stats.writeFilesystem(fs, &w) }
            }
            w.field("has_load", false)
            w.object(literal: "load_stats") { w in CAdvisorV1Stats.writeLoadStats(&w) }
            w.field("has_custom_metrics", false)
            w.endObject()
            last = s
        }
        w.endArray()
    }

    /// v2.1 `ContainerInfo`: `{spec, stats}` with v2.1 `ContainerStats` (sub-objects only where the
    /// spec has them, no flattened network interface, filesystem summed when there is exactly one).
    public static func writeInfo(_ snapshot: ContainerSnapshot, deviceName: CAdvisorV1Stats.DeviceNamer,
                                 _ w: inout JSONWriter) {
        let spec = snapshot.spec
        w.beginObject()
        w.object("spec") { w in CAdvisorV2Info.writeSpec(snapshot, &w) }
        var last: ContainerSample?
        w.array("stats", snapshot.samples) { w, s in
            w.beginObject()
            w.field(literal: "timestamp", rfc3339Nano: s.timestampNanos)
            if spec.hasCPU {
                w.object("cpu") { w in CAdvisorV1Stats.writeCPU(s, &w) }
                writeCPUInst(last, s, &w)
            }
            if spec.hasDiskIO { w.object("diskio") { w in CAdvisorV1Stats.writeDiskIO(s.diskIO, &w, deviceName) } }
            if spec.hasMemory {
                w.object("memory") { w in CAdvisorV1Stats.writeMemory(s, &w) }
            }
            if spec.hasHugetlb && !s.hugetlb.isEmpty { CAdvisorV1Stats.writeHugetlb(s.hugetlb, &w) }
            if CAdvisorV1Info.hasNetwork(snapshot) {
                w.object("network") { w in CAdvisorV1Stats.writeNetwork(s, flattened: false, &w) }
            }
            CAdvisorV1Stats.writeProcesses(s, &w)
            if s.filesystems.count == 1, let fs = s.filesystems.first {
                w.object("filesystem") { w in
                    w.field("totalUsageBytes", fs.usage)
                    w.field("baseUsageBytes", UInt64(0))
                    w.field("containter_inode_usage", fs.inodes - min(fs.inodes, fs.inodesFree)) // sic: cAdvisor's wire name
                }
            }
            w.endObject()
            last = s
        }
        w.endObject()
    }

    /// v2.1 `[]MachineStats` from the root container's samples; a filesystem's disk counters go under
    /// the key `inline` (cAdvisor's tag quirk) with durations in nanoseconds.
    public static func writeMachineStats(_ root: ContainerSnapshot, _ w: inout JSONWriter) {
        var last: ContainerSample?
        w.beginArray()
        for s in root.samples {
            w.beginObject()
            w.field(literal: "timestamp", rfc3339Nano: s.timestampNanos)
            w.object("cpu") { w in CAdvisorV1Stats.writeCPU(s, &w) }
            writeCPUInst(last, s, &w)
            w.object("memory") { w in CAdvisorV1Stats.writeMemory(s, &w) }
            w.object("network") { w in CAdvisorV1Stats.writeNetwork(s, flattened: false, &w) }
            w.array("filesystem", s.filesystems) { w, fs in
                func io(_ i: Int) -> UInt64 { i < fs.io.count ? fs.io[i] : 0 }
                w.beginObject()
                w.field("device", fs.device)
                w.field("type", fs.type)
                w.field("capacity", fs.capacity)
                w.field("usage", fs.usage)
                w.field("available", fs.available)
                w.field("inodes_free", fs.inodesFree)
                w.object("inline") { w in
                    // diskstats milliseconds as nanoseconds (u64 ms beyond 584 years saturate).
                    func ns(_ i: Int) -> UInt64 { io(i).saturatingMultiply(1_000_000) }
                    w.field("reads_completed", io(0))
                    w.field("reads_merged", io(1))
                    w.field("sectors_read", io(2))
                    w.field("read_duration", ns(3))
                    w.field("writes_completed", io(4))
                    w.field("writes_merged", io(5))
                    w.field("sectors_written", io(6))
                    w.field("write_duration", ns(7))
                    w.field("io_in_progress", io(8))
                    w.field("io_duration", ns(9))
                    w.field("weighted_io_duration", ns(10))
                }
                w.endObject()
            }
            w.endObject()
            last = s
        }
        w.endArray()
    }
}
