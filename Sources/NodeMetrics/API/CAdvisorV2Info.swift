/// cAdvisor's v2 types (info/v2): DerivedStats, ContainerSpec, Attributes.
public enum CAdvisorV2Info {
    static func writePercentiles(_ name: String, _ p: Percentiles, _ w: inout JSONWriter) {
        w.object(name) { w in
            w.field("present", p.present)
            w.field("mean", p.mean)
            w.field("max", p.max)
            w.field("fifty", p.fifty)
            w.field("ninety", p.ninety)
            w.field("ninetyfive", p.ninetyFive)
        }
    }

    static func writeUsage(_ name: String, _ u: Usage, _ w: inout JSONWriter) {
        w.object(name) { w in
            w.field("percent_complete", Int64(u.percentComplete))
            writePercentiles("cpu", u.cpu, &w)
            writePercentiles("memory", u.memory, &w)
        }
    }

    /// DerivedStats (/api/v2.0/summary).
    public static func writeDerivedStats(_ d: DerivedStats, _ w: inout JSONWriter) {
        w.field("timestamp", GoTime.rfc3339Nano(nanosSinceEpoch: d.timestampNanos))
        w.object("latest_usage") { w in
            w.field("cpu", d.latestCPU)
            w.field("memory", d.latestMemory)
        }
        writeUsage("minute_usage", d.minuteUsage, &w)
        writeUsage("hour_usage", d.hourUsage, &w)
        writeUsage("day_usage", d.dayUsage, &w)
    }

    /// v2 ContainerSpec: quota and period are not copied into v2 (cAdvisor's conversion).
    public static func writeSpec(_ snapshot: ContainerSnapshot, _ w: inout JSONWriter) {
        let spec = snapshot.spec
        w.field("creation_time", GoTime.rfc3339Nano(nanosSinceEpoch: snapshot.creationTimeNanos))
        CAdvisorV1Info.writeLabelsAndEnv(snapshot.metadata, &w)
        w.field("has_cpu", spec.hasCPU)
        CAdvisorV1Info.writeCPUSpec(spec, withQuota: false, &w)
        w.field("has_memory", spec.hasMemory)
        CAdvisorV1Info.writeMemorySpec(spec, &w)
        w.field("has_custom_metrics", false)
        w.field("has_processes", true)
        CAdvisorV1Info.writeProcessSpec(spec, &w)
        w.field("has_network", CAdvisorV1Info.hasNetwork(snapshot))
        w.field("has_filesystem", CAdvisorV1Info.hasFilesystem(snapshot))
        w.field("has_diskio", spec.hasDiskIO)
        if !snapshot.metadata.image.isEmpty { w.field("image", snapshot.metadata.image) }
    }

    /// Attributes (/api/v2.0/attributes): version info and the hardware part of MachineInfo.
    public static func writeAttributes(_ m: MachineInfo, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("kernel_version", m.kernelVersion)
        w.field("container_os_version", m.containerOSVersion)
        w.field("docker_version", "")
        w.field("docker_api_version", "")
        w.field("cadvisor_version", AgentVersion.current)
        w.field("num_cores", Int64(m.numCores))
        w.field("cpu_frequency_khz", m.cpuFrequencyKHz)
        w.field("memory_capacity", m.memoryCapacity)
        w.field("machine_id", m.machineID)
        w.field("system_uuid", m.systemUUID)
        CAdvisorV1Info.writeHugePages(m.hugePages, &w)
        CAdvisorV1Info.writeHardware(m, &w)
        w.endObject()
    }
}
