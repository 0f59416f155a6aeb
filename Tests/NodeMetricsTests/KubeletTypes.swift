import Foundation

/// k8s.io/kubelet/pkg/apis/stats/v1alpha1, field for field (JSON names as the Go tags; pointers and
/// omitempty fields optional), for decoding what /stats/summary serves.
enum StatsV1Alpha1 {
    struct Summary: Decodable { var node: NodeStats; var pods: [PodStats] }
    struct NodeStats: Decodable {
        var nodeName: String
        var systemContainers: [ContainerStats]?
        var startTime: String
        var cpu: CPUStats?
        var memory: MemoryStats?
        var io: IOStats?
        var network: NetworkStats?
        var fs: FsStats?
        var runtime: RuntimeStats?
        var rlimit: RlimitStats?
        var swap: SwapStats?
        static let keys: Set<String> = ["nodeName", "systemContainers", "startTime", "cpu", "memory", "io", "network", "fs",
                                        "runtime", "rlimit", "swap"]
    }
    struct RuntimeStats: Decodable { var imageFs: FsStats?; var containerFs: FsStats? }
    struct RlimitStats: Decodable { var time: String; var maxpid: Int64?; var curproc: Int64? }
    struct PodStats: Decodable {
        var podRef: PodReference
        var startTime: String
        var containers: [ContainerStats]
        var cpu: CPUStats?
        var memory: MemoryStats?
        var io: IOStats?
        var network: NetworkStats?
        var volume: [VolumeStats]?
        var ephemeralStorage: FsStats?
        var processStats: ProcessStats?
        var swap: SwapStats?
        enum CodingKeys: String, CodingKey {
            case podRef, startTime, containers, cpu, memory, io, network, volume, swap
            case ephemeralStorage = "ephemeral-storage", processStats = "process_stats"
        }
        static let keys: Set<String> = ["podRef", "startTime", "containers", "cpu", "memory", "io", "network", "volume",
                                        "ephemeral-storage", "process_stats", "swap"]
    }
    struct PodReference: Decodable { var name: String; var namespace: String; var uid: String }
    struct ProcessStats: Decodable {
        var processCount: UInt64?
        enum CodingKeys: String, CodingKey { case processCount = "process_count" }
    }
    struct ContainerStats: Decodable {
        var name: String
        var startTime: String
        var cpu: CPUStats?
        var memory: MemoryStats?
        var io: IOStats?
        var accelerators: [AcceleratorStats]?
        var rootfs: FsStats?
        var logs: FsStats?
        var userDefinedMetrics: [UserDefinedMetric]?
        var swap: SwapStats?
        static let keys: Set<String> = ["name", "startTime", "cpu", "memory", "io", "accelerators", "rootfs", "logs",
                                        "userDefinedMetrics", "swap"]
    }
    struct AcceleratorStats: Decodable { var make: String; var model: String; var id: String; var memoryTotal: UInt64; var memoryUsed: UInt64; var dutyCycle: UInt64 }
    struct UserDefinedMetric: Decodable { var name: String; var type: String; var units: String; var labels: [String: String]?; var time: String; var value: Double }
    struct CPUStats: Decodable { var time: String; var usageNanoCores: UInt64?; var usageCoreNanoSeconds: UInt64?; var psi: PSIStats? }
    struct MemoryStats: Decodable {
        var time: String
        var availableBytes: UInt64?
        var usageBytes: UInt64?
        var workingSetBytes: UInt64?
        var rssBytes: UInt64?
        var pageFaults: UInt64?
        var majorPageFaults: UInt64?
        var psi: PSIStats?
    }
    struct IOStats: Decodable { var time: String; var psi: PSIStats? }
    struct PSIStats: Decodable { var full: PSIData; var some: PSIData }
    struct PSIData: Decodable { var total: UInt64; var avg10: Double; var avg60: Double; var avg300: Double }
    struct InterfaceStats: Decodable { var name: String; var rxBytes: UInt64?; var rxErrors: UInt64?; var txBytes: UInt64?; var txErrors: UInt64? }
    struct NetworkStats: Decodable {
        var time: String
        var name: String
        var rxBytes: UInt64?
        var rxErrors: UInt64?
        var txBytes: UInt64?
        var txErrors: UInt64?
        var interfaces: [InterfaceStats]?
    }
    struct FsStats: Decodable {
        var time: String
        var availableBytes: UInt64?
        var capacityBytes: UInt64?
        var usedBytes: UInt64?
        var inodesFree: UInt64?
        var inodes: UInt64?
        var inodesUsed: UInt64?
    }
    /// FsStats inline, then the volume's name and its claim.
    struct VolumeStats: Decodable {
        var time: String
        var availableBytes: UInt64?
        var capacityBytes: UInt64?
        var usedBytes: UInt64?
        var inodesFree: UInt64?
        var inodes: UInt64?
        var inodesUsed: UInt64?
        var name: String?
        var pvcRef: PVCReference?
        static let keys: Set<String> = ["time", "availableBytes", "capacityBytes", "usedBytes", "inodesFree", "inodes",
                                        "inodesUsed", "name", "pvcRef"]
    }
    struct PVCReference: Decodable { var name: String; var namespace: String }
    struct SwapStats: Decodable { var time: String; var swapAvailableBytes: UInt64?; var swapUsageBytes: UInt64? }

    /// metav1.Time: RFC 3339, whole seconds, UTC.
    static func isMetaTime(_ s: String) -> Bool {
        s.count == 20 && s.hasSuffix("Z") && s.dropFirst(10).first == "T"
    }
}
