/// cAdvisor's v1 `ContainerInfo`, `ContainerSpec`, `MachineInfo` and `Event` JSON (info/v1), in Go's
/// field order.
public enum CAdvisorV1Info {
    /// What a container is known as: cAdvisor's ContainerReference (runtimes add aliases and namespace).
    public struct Reference: Sendable, Equatable {
        public var name: String
        public var id: String = ""
        public var aliases: [String] = []
        public var namespace: String = ""
        public init(name: String) { self.name = name }
    }

    static func writeReference(_ r: Reference, _ w: inout JSONWriter) {
        if !r.id.isEmpty { w.field("id", r.id) }
        w.field("name", r.name)
        if !r.aliases.isEmpty { w.array("aliases", r.aliases) { w, a in w.value(a) } }
        if !r.namespace.isEmpty { w.field("namespace", r.namespace) }
    }

    /// A container's reference: its name, and from its runtime the id, aliases and namespace.
    static func reference(_ snapshot: ContainerSnapshot) -> Reference {
        var r = Reference(name: snapshot.name)
        let m = snapshot.metadata
        if !m.runtime.isEmpty {
            r.id = m.aliases.last ?? ""
            r.aliases = m.aliases
            r.namespace = m.namespace
        }
        return r
    }

    /// The spec's `labels` and `envs` (omitted when empty, as Go's omitempty).
    static func writeLabelsAndEnv(_ m: ContainerMetadata, _ w: inout JSONWriter) {
        if !m.labels.isEmpty { w.object("labels") { w in for (k, v) in m.labels.sorted(by: { $0.key < $1.key }) { w.field(k, v) } } }
        if !m.env.isEmpty { w.object("envs") { w in for (k, v) in m.env.sorted(by: { $0.key < $1.key }) { w.field(k, v) } } }
    }

    /// ContainerInfo: the reference fields inline, then subcontainers, spec and stats (oldest first).
    public static func writeContainerInfo(_ snapshot: ContainerSnapshot, subcontainers: [String],
                                          deviceName: CAdvisorV1Stats.DeviceNamer, to w: inout JSONWriter) {
        w.beginObject()
        writeReference(reference(snapshot), &w)
        if !subcontainers.isEmpty {
            w.array("subcontainers", subcontainers) { w, name in
                w.beginObject()
                writeReference(Reference(name: name), &w)
                w.endObject()
            }
        }
        w.object("spec") { w in writeSpec(snapshot, &w) }
        if !snapshot.samples.isEmpty {
            w.array("stats", snapshot.samples) { w, s in CAdvisorV1Stats.write(s, to: &w, deviceName: deviceName) }
        }
        w.endObject()
    }

    /// ContainerSpec from the cgroup's limits.
    public static func writeSpec(_ snapshot: ContainerSnapshot, _ w: inout JSONWriter) {
        let spec = snapshot.spec
        w.field("creation_time", GoTime.rfc3339Nano(nanosSinceEpoch: snapshot.creationTimeNanos))
        writeLabelsAndEnv(snapshot.metadata, &w)
        w.field("has_cpu", spec.hasCPU)
        writeCPUSpec(spec, withQuota: true, &w)
        w.field("has_memory", spec.hasMemory)
        writeMemorySpec(spec, &w)
        w.field("has_hugetlb", spec.hasHugetlb)
        w.field("has_network", hasNetwork(snapshot))
        w.field("has_processes", true)
        writeProcessSpec(spec, &w)
        w.field("has_filesystem", hasFilesystem(snapshot))
        w.field("has_diskio", spec.hasDiskIO)
        w.field("has_custom_metrics", false)
        if !snapshot.metadata.image.isEmpty { w.field("image", snapshot.metadata.image) }
    }

    /// The spec's `cpu` object; v2 leaves quota and period out (cAdvisor's conversion does not copy them).
    static func writeCPUSpec(_ spec: CgroupSpec, withQuota: Bool, _ w: inout JSONWriter) {
        w.object("cpu") { w in
            w.field("limit", spec.cpuShares)
            w.field("max_limit", UInt64(0))
            if !spec.cpuMask.isEmpty { w.field("mask", spec.cpuMask) }
            if withQuota && spec.cpuQuota != 0 { w.field("quota", spec.cpuQuota) }
            if withQuota && spec.cpuPeriod != 0 { w.field("period", spec.cpuPeriod) }
        }
    }

    static func writeMemorySpec(_ spec: CgroupSpec, _ w: inout JSONWriter) {
        w.object("memory") { w in
            if spec.memoryLimit != 0 { w.field("limit", spec.memoryLimit) }
            if spec.memoryReservation != 0 { w.field("reservation", spec.memoryReservation) }
            if spec.memorySwapLimit != 0 { w.field("swap_limit", spec.memorySwapLimit) }
        }
    }

    static func writeProcessSpec(_ spec: CgroupSpec, _ w: inout JSONWriter) {
        w.object("processes") { w in if spec.pidsMax != 0 { w.field("limit", spec.pidsMax) } }
    }

    /// The root container has the host's network; others when they have a namespace of their own.
    static func hasNetwork(_ snapshot: ContainerSnapshot) -> Bool {
        snapshot.name == "/" || !(snapshot.samples.last?.network.isEmpty ?? true)
    }

    /// The root container has the host's filesystems (cAdvisor: always); others when measured.
    static func hasFilesystem(_ snapshot: ContainerSnapshot) -> Bool {
        snapshot.name == "/" || !(snapshot.samples.last?.filesystems.isEmpty ?? true)
    }

    /// One event (info/v1 Event).
    public static func writeEvent(_ e: ContainerEvent, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("container_name", e.containerName)
        w.field("timestamp", GoTime.rfc3339Nano(nanosSinceEpoch: e.timestampNanos))
        w.field("event_type", e.type.rawValue)
        w.object("event_data") { w in
            switch e.type {
            case .oomKill:
                w.object("oom") { w in
                    w.field("pid", Int64(e.pid ?? 0))
                    w.field("process_name", e.processName ?? "")
                    if let c = e.constraint, !c.isEmpty { w.field("constraint", c) }
                }
            case .containerDeletion:
                w.object("container_deletion") { w in w.field("exit_code", Int64(-1)) }
            default:
                break
            }
        }
        w.endObject()
    }

    static func writeCaches(_ name: String, _ caches: [MachineInfo.Cache], _ w: inout JSONWriter) {
        w.array(name, caches) { w, c in
            w.beginObject()
            w.field("id", Int64(c.id))
            w.field("size", c.size)
            w.field("type", c.type)
            w.field("level", Int64(c.level))
            w.endObject()
        }
    }

    static func writeHugePages(_ pages: [MachineInfo.HugePage], _ w: inout JSONWriter) {
        w.array("hugepages", pages) { w, p in
            w.beginObject()
            w.field("page_size", p.pageSizeKB)
            w.field("num_pages", p.numPages)
            w.endObject()
        }
    }

    /// The hardware fields shared by MachineInfo and v2 Attributes, after `boot_id`/`system_uuid`.
    static func writeHardware(_ m: MachineInfo, _ w: inout JSONWriter) {
        w.array("filesystems", m.filesystems) { w, fs in
            w.beginObject()
            w.field("device", fs.device)
            w.field("capacity", fs.capacity)
            w.field("type", fs.type)
            w.field("inodes", fs.inodes)
            w.field("has_inodes", fs.hasInodes)
            w.endObject()
        }
        w.object("disk_map") { w in
            for (key, d) in m.diskMap.sorted(by: { $0.key < $1.key }) {
                w.object(key) { w in
                    w.field("name", d.name)
                    w.field("major", d.major)
                    w.field("minor", d.minor)
                    w.field("size", d.size)
                    w.field("scheduler", d.scheduler)
                }
            }
        }
        w.array("network_devices", m.networkDevices) { w, d in
            w.beginObject()
            w.field("name", d.name)
            w.field("mac_address", d.macAddress)
            w.field("speed", d.speed)
            w.field("mtu", d.mtu)
            w.endObject()
        }
        w.array("topology", m.topology) { w, node in
            w.beginObject()
            w.field("node_id", Int64(node.nodeID))
            w.field("memory", node.memory)
            writeHugePages(node.hugePages, &w)
            w.array("cores", node.cores) { w, core in
                w.beginObject()
                w.field("core_id", Int64(core.coreID))
                w.array("thread_ids", core.threadIDs) { w, t in w.value(Int64(t)) }
                writeCaches("caches", core.caches, &w)
                writeCaches("uncore_caches", core.uncoreCaches, &w)
                w.field("socket_id", Int64(core.socketID))
                w.endObject()
            }
            writeCaches("caches", node.caches, &w)
            w.array("distances", node.distances) { w, d in w.value(d) }
            w.endObject()
        }
        w.field("cloud_provider", m.cloudProvider)
        w.field("instance_type", m.instanceType)
    }

    /// MachineInfo (/api/*/machine).
    public static func writeMachineInfo(_ m: MachineInfo, _ w: inout JSONWriter) {
        w.beginObject()
        w.field("timestamp", GoTime.rfc3339Nano(nanosSinceEpoch: m.timestampNanos))
        w.field("vendor_id", m.vendorID)
        w.field("num_cores", Int64(m.numCores))
        w.field("num_physical_cores", Int64(m.numPhysicalCores))
        w.field("num_sockets", Int64(m.numSockets))
        w.field("cpu_frequency_khz", m.cpuFrequencyKHz)
        w.field("memory_capacity", m.memoryCapacity)
        w.field("swap_capacity", m.swapCapacity)
        w.object("memory_by_type") { _ in }
        w.object("nvm") { w in
            w.field("memory_mode_capacity", UInt64(0))
            w.field("app direct_mode_capacity", UInt64(0))
            w.field("avg_power_budget", UInt64(0))
        }
        writeHugePages(m.hugePages, &w)
        w.field("machine_id", m.machineID)
        w.field("system_uuid", m.systemUUID)
        w.field("boot_id", m.bootID)
        writeHardware(m, &w)
        w.field("instance_id", m.instanceID)
        w.endObject()
    }
}
