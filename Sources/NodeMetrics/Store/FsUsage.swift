/// A directory's filesystem as the kubelet's stats/v1alpha1 FsStats has it: the filesystem's
/// capacity, available bytes, inodes and free inodes (statvfs), and what the directory itself uses
/// (bytes and inodes, from a walk). A field nil is one that is unknown (left out of the JSON).
public struct FsUsage: Sendable, Equatable {
    /// When the directory was measured (wall clock, ns since the epoch).
    public var timeNanos: Int64
    public var capacityBytes: UInt64?
    public var availableBytes: UInt64?
    public var usedBytes: UInt64?
    public var inodes: UInt64?
    public var inodesFree: UInt64?
    public var inodesUsed: UInt64?

    public init(timeNanos: Int64, capacityBytes: UInt64? = nil, availableBytes: UInt64? = nil, usedBytes: UInt64? = nil,
                inodes: UInt64? = nil, inodesFree: UInt64? = nil, inodesUsed: UInt64? = nil) {
        self.timeNanos = timeNanos
        self.capacityBytes = capacityBytes
        self.availableBytes = availableBytes
        self.usedBytes = usedBytes
        self.inodes = inodes
        self.inodesFree = inodesFree
        self.inodesUsed = inodesUsed
    }
}

/// A container's disk use as the kubelet reports it: `rootfs` (the writable layer) and `logs`
/// (its directory under /var/log/pods, or the runtime's log directory).
public struct KubeletDiskUsage: Sendable, Equatable {
    public var rootfs: FsUsage?
    public var logs: FsUsage?
    public init(rootfs: FsUsage? = nil, logs: FsUsage? = nil) {
        self.rootfs = rootfs
        self.logs = logs
    }
}

/// One volume of a pod under `/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>`.
public struct PodVolumeUsage: Sendable, Equatable {
    /// The volume's name (the directory's), e.g. `cache`.
    public var name: String
    /// The volume plugin's directory, e.g. `kubernetes.io~empty-dir`.
    public var plugin: String
    public var usage: FsUsage
    /// False when the volume is a mount of its own (a memory-backed emptyDir, a CSI volume): not
    /// on the node's filesystem, so not part of the pod's ephemeral storage.
    public var onPodFilesystem: Bool
    public init(name: String, plugin: String, usage: FsUsage, onPodFilesystem: Bool) {
        self.name = name
        self.plugin = plugin
        self.usage = usage
        self.onPodFilesystem = onPodFilesystem
    }
}
