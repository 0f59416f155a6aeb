import FoundationEssentials

/// The kubelet's Summary API (`/stats/summary`, stats/v1alpha1) written from a KubeletView: JSON
/// names and field order as the Go types, pointer fields omitted when unknown, times as metav1.Time
/// (RFC 3339, whole seconds). `onlyCPUAndMemory` is `?only_cpu_and_memory=true`: node, system
/// containers and pods with cpu, memory and swap only.
public enum KubeletSummary {
    /// What the node part needs beyond the root cgroup.
    public struct Node: Sendable {
        public var name: String
        public var bootTimeNanos: Int64
        public var machine: MachineInfo
        /// /proc/sys/kernel/pid_max and the number of threads on the host (rlimit).
        public var maxPID: Int64?
        public var threads: Int64?
        /// The image filesystem and pod volumes (nil: not measured).
        public var disk: LayerUsage.NodeDisk?
        public init(name: String, bootTimeNanos: Int64, machine: MachineInfo, maxPID: Int64? = nil, threads: Int64? = nil,
                    disk: LayerUsage.NodeDisk? = nil) {
            self.disk = disk
            self.name = name
            self.bootTimeNanos = bootTimeNanos
            self.machine = machine
            self.maxPID = maxPID
            self.threads = threads
        }
    }

    static func time(_ nanos: Int64) -> String { GoTime.rfc3339Seconds(nanosSinceEpoch: nanos) }

    public static func write(_ view: KubeletView, node: Node, onlyCPUAndMemory: Bool, to w: inout JSONWriter) {
        w.beginObject()
        w.object("node") { w in
            w.field("nodeName", node.name)
            if !view.systemContainers.isEmpty {
                w.array("systemContainers", view.systemContainers) { w, c in
                    w.beginObject()
                    w.field("name", c.name)
                    w.field("startTime", time(c.snapshot.creationTimeNanos))
                    writeCPU(c.snapshot, &w)
                    writeMemory(c.snapshot, limit: nil, &w)
                    w.endObject()
                }
            }
            w.field("startTime", time(node.bootTimeNanos))
            if let root = view.root, let s = root.samples.last {
                writeCPU(root, &w)
                writeMemory(root, limit: node.machine.memoryCapacity, &w)
                if !onlyCPUAndMemory {
                    writeNetwork(s, &w)
                    if let fs = rootFilesystem(s, node.machine) { writeFs("fs", fs, time: s.timestampNanos, &w) }
                    writeRuntime(node.disk, &w)
                    w.object("rlimit") { w in
                        w.field("time", time(s.timestampNanos))
                        if let v = node.maxPID { w.field("maxpid", v) }
                        if let v = node.threads { w.field("curproc", v) }
                    }
                }
                writeSwap(s, limit: node.machine.swapCapacity, &w)
            }
        }
        w.array("pods", view.pods) { w, pod in
            w.beginObject()
            w.object("podRef") { w in
                w.field("name", pod.name)
                w.field("namespace", pod.namespace)
                w.field("uid", pod.uid)
            }
            w.field("startTime", time(pod.startNanos))
            w.array("containers", pod.containers) { w, c in
                w.beginObject()
                w.field("name", c.name)
                w.field("startTime", time(c.snapshot.creationTimeNanos))
                writeCPU(c.snapshot, &w)
                writeMemory(c.snapshot, limit: c.snapshot.spec.hasMemory ? c.snapshot.spec.memoryLimit : nil, &w)
                if !onlyCPUAndMemory {
                    if let rootfs = c.disk?.rootfs { writeFs("rootfs", rootfs, &w) }
                    if let logs = c.disk?.logs { writeFs("logs", logs, &w) }
                }
                if let s = c.snapshot.samples.last {
                    writeSwap(s, limit: c.snapshot.spec.hasMemory ? c.snapshot.spec.memorySwapLimit : nil, &w)
                }
                w.endObject()
            }
            if let cg = pod.cgroup {
                writeCPU(cg, &w)
                writeMemory(cg, limit: cg.spec.hasMemory ? cg.spec.memoryLimit : nil, &w)
            }
            if !onlyCPUAndMemory {
                if let sandbox = pod.sandbox?.samples.last, !sandbox.network.isEmpty { writeNetwork(sandbox, &w) }
                writePodStorage(pod, node.disk, &w)
                let counts = pod.containers.compactMap { $0.snapshot.samples.last?.processes?.processCount }
                if !counts.isEmpty { w.object("process_stats") { w in w.field("process_count", counts.saturatingSum()) } }
            }
            if let cg = pod.cgroup, let s = cg.samples.last {
                writeSwap(s, limit: cg.spec.hasMemory ? cg.spec.memorySwapLimit : nil, &w)
            }
            w.endObject()
        }
        w.endObject()
    }

    static func writeCPU(_ c: ContainerSnapshot, _ w: inout JSONWriter) {
        guard let s = c.samples.last else { return }
        w.object("cpu") { w in
            w.field("time", time(s.timestampNanos))
            if let rate = KubeletView.usageNanoCores(c) { w.field("usageNanoCores", rate) }
            w.field("usageCoreNanoSeconds", s.cpu.usage.total)
        }
    }

    /// `limit`: the memory limit (node: capacity); availableBytes only below 2^62 (unlimited otherwise).
    static func writeMemory(_ c: ContainerSnapshot, limit: UInt64?, _ w: inout JSONWriter) {
        guard let s = c.samples.last else { return }
        let m = s.memory
        w.object("memory") { w in
            w.field("time", time(s.timestampNanos))
            if let limit, limit > 0, limit < 1 << 62 {
                w.field("availableBytes", limit > m.workingSet ? limit - m.workingSet : 0)
            }
            w.field("usageBytes", m.usage)
            w.field("workingSetBytes", m.workingSet)
            w.field("rssBytes", m.rss)
            w.field("pageFaults", m.pgfault)
            w.field("majorPageFaults", m.pgmajfault)
        }
    }

    static func writeSwap(_ s: ContainerSample, limit: UInt64?, _ w: inout JSONWriter) {
        w.object("swap") { w in
            w.field("time", time(s.timestampNanos))
            if let limit, limit > 0, limit < 1 << 62 {
                w.field("swapAvailableBytes", limit > s.memory.swap ? limit - s.memory.swap : 0)
            }
            w.field("swapUsageBytes", s.memory.swap)
        }
    }

    /// NetworkStats: the interface named eth0 inline (the kubelet's default), and every interface.
    static func writeNetwork(_ s: ContainerSample, _ w: inout JSONWriter) {
        func interface(_ i: NetInterfaceStats, _ w: inout JSONWriter) {
            w.field("name", i.name)
            w.field("rxBytes", i.rxBytes)
            w.field("rxErrors", i.rxErrors)
            w.field("txBytes", i.txBytes)
            w.field("txErrors", i.txErrors)
        }
        w.object("network") { w in
            w.field("time", time(s.timestampNanos))
            if let eth0 = s.network.first(where: { $0.name == "eth0" }) { interface(eth0, &w) } else { w.field("name", "") }
            if !s.network.isEmpty {
                w.array("interfaces", s.network) { w, i in
                    w.beginObject()
                    interface(i, &w)
                    w.endObject()
                }
            }
        }
    }

    static func writeFs(_ key: String, _ fs: FilesystemStats, time t: Int64, _ w: inout JSONWriter) {
        w.object(key) { w in
            w.field("time", time(t))
            if fs.available > 0 { w.field("availableBytes", fs.available) }
            if fs.capacity > 0 { w.field("capacityBytes", fs.capacity) }
            w.field("usedBytes", fs.usage)
            if fs.inodesFree > 0 {
                w.field("inodesFree", fs.inodesFree)
                w.field("inodes", fs.inodes)
                w.field("inodesUsed", fs.inodes - min(fs.inodes, fs.inodesFree))
            } else if fs.inodes > 0 {
                w.field("inodesUsed", fs.inodes) // a writable layer: the inodes it uses
            }
        }
    }

    /// The filesystem mounted at the host's `/` among the root container's filesystems.
    static func rootFilesystem(_ s: ContainerSample, _ machine: MachineInfo) -> FilesystemStats? {
        guard let device = machine.filesystems.first(where: { $0.mountPoint == "/" })?.device
                ?? machine.filesystems.first?.device else { return s.filesystems.first }
        return s.filesystems.first { $0.device == device } ?? s.filesystems.first
    }
}
