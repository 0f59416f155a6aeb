import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What the kubelet endpoints need beyond the store: the node's name (`-node_name`, else NODE_NAME,
/// else the host name) and the cgroups of the kubelet's system containers.
public struct KubeletConfiguration: Sendable {
    public var nodeName: String
    public var systemContainers = KubeletView.SystemContainers()
    /// The disk walker (nil: the `disk` kind is off): container rootfs and logs, the image
    /// filesystem and pod volumes of the Summary API.
    public var storage: LayerUsage?

    public init(nodeName: String = "") {
        if !nodeName.isEmpty {
            self.nodeName = nodeName
        } else if let env = getenv("NODE_NAME"), !String(cString: env).isEmpty {
            self.nodeName = String(cString: env)
        } else {
            var buffer = [CChar](repeating: 0, count: 256)
            gethostname(&buffer, buffer.count - 1)
            self.nodeName = String(nulTerminated: buffer)
        }
    }

    /// The node part of a summary: boot time, machine info, pid_max and the host's thread count.
    func node(manager: ContainerManager) -> KubeletSummary.Node {
        let paths = manager.configuration.paths
        // btime is kernel-wide; a /proc/stat btime beyond Int64 nanoseconds saturates.
        let boot = Int64(saturating: AgentProcessMetrics.bootTime).saturatingMultiply(1_000_000_000)
        let maxPID = HostFiles.firstLine(paths.path("/proc/sys/kernel/pid_max")).flatMap { Int64($0) }
        // /proc/loadavg's fourth field: running/total scheduling entities.
        let threads = HostFiles.firstLine(paths.path("/proc/loadavg"))
            .flatMap { $0.split(separator: " ").dropFirst(3).first?.split(separator: "/").last }.flatMap { Int64($0) }
        return KubeletSummary.Node(name: nodeName, bootTimeNanos: boot, machine: manager.machineInfo, maxPID: maxPID, threads: threads,
                                   disk: storage?.nodeDisk)
    }
}
