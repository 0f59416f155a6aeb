import CCgroupFast

/// How the host mounts cgroups.
public enum CgroupMode: String, Sendable, CaseIterable {
    /// v1 controllers only.
    case v1
    /// The unified hierarchy only.
    case v2
    /// v1 controllers plus a cgroup2 mount (systemd's "hybrid"); pressure is read from the cgroup2 side.
    case hybrid

    var cValue: cgf_mode {
        switch self {
        case .v1: CGF_MODE_V1
        case .v2: CGF_MODE_V2
        case .hybrid: CGF_MODE_HYBRID
        }
    }
}

/// The cgroup hierarchies the collector reads: v1 controllers and the cgroup2 mount.
public enum CgroupController: String, Sendable, CaseIterable {
    case cpu, cpuacct, cpuset, memory, blkio, pids, hugetlb
    /// The cgroup2 mount (all of v2; only pressure files on a hybrid host).
    case unified

    var cIndex: Int {
        switch self {
        case .cpu: Int(CGF_CTRL_CPU.rawValue)
        case .cpuacct: Int(CGF_CTRL_CPUACCT.rawValue)
        case .cpuset: Int(CGF_CTRL_CPUSET.rawValue)
        case .memory: Int(CGF_CTRL_MEMORY.rawValue)
        case .blkio: Int(CGF_CTRL_BLKIO.rawValue)
        case .pids: Int(CGF_CTRL_PIDS.rawValue)
        case .hugetlb: Int(CGF_CTRL_HUGETLB.rawValue)
        case .unified: Int(CGF_CTRL_UNIFIED.rawValue)
        }
    }
}

/// The host's cgroup mode and where each hierarchy is mounted, as decided from mountinfo.
public struct CgroupLayout: Sendable, Equatable {
    public var mode: CgroupMode
    /// Mount point of each mounted hierarchy, as seen by the agent.
    public var mountPoints: [CgroupController: String]

    public init(mode: CgroupMode, mountPoints: [CgroupController: String]) {
        self.mode = mode
        self.mountPoints = mountPoints
    }

    public enum DetectionError: Error, CustomStringConvertible, Equatable {
        case noCgroupMounts
        public var description: String {
            "no cgroup or cgroup2 filesystem is mounted (looked for fstype cgroup/cgroup2 in mountinfo)"
        }
    }

    /// Decides the mode from mountinfo entries: v2 when only cgroup2 is mounted, v1 when only v1
    /// controllers are, hybrid when both. Among several mounts of one hierarchy (bind mounts inside
    /// a container), the one that shows the hierarchy's root, then the shortest path, wins.
    public static func detect(from mounts: [MountEntry]) throws(DetectionError) -> CgroupLayout {
        func better(_ a: MountEntry, than b: MountEntry?) -> Bool {
            guard let b else { return true }
            if (a.root == "/") != (b.root == "/") { return a.root == "/" }
            return a.mountPoint.count < b.mountPoint.count
        }
        var chosen: [CgroupController: MountEntry] = [:]
        for m in mounts {
            switch m.fsType {
            case "cgroup":
                for option in m.superOptions {
                    guard let c = CgroupController(rawValue: option), c != .unified else { continue }
                    if better(m, than: chosen[c]) { chosen[c] = m }
                }
            case "cgroup2":
                // Prefer the canonical places when several cgroup2 mounts exist.
                let rank = { (e: MountEntry) -> Int in
                    e.mountPoint == "/sys/fs/cgroup" ? 0 : e.mountPoint == "/sys/fs/cgroup/unified" ? 1 : 2
                }
                if let current = chosen[.unified] {
                    if rank(m) < rank(current) || (rank(m) == rank(current) && better(m, than: current)) {
                        chosen[.unified] = m
                    }
                } else {
                    chosen[.unified] = m
                }
            default:
                continue
            }
        }
        let hasV1 = chosen.keys.contains { $0 != .unified }
        let hasV2 = chosen[.unified] != nil
        let mode: CgroupMode
        switch (hasV1, hasV2) {
        case (true, true): mode = .hybrid
        case (true, false): mode = .v1
        case (false, true): mode = .v2
        case (false, false): throw .noCgroupMounts
        }
        return CgroupLayout(mode: mode, mountPoints: chosen.mapValues(\.mountPoint))
    }
}

extension CgroupLayout {
    /// Reads mountinfo (by default the agent's own: cgroup mount points are paths the agent sees)
    /// and decides the layout.
    public static func detect(mountinfoPath: String = "/proc/self/mountinfo") throws -> CgroupLayout {
        guard let text = HostFiles.read(mountinfoPath) else {
            throw HostFileError(path: mountinfoPath, reason: "cannot be read")
        }
        return try detect(from: MountInfo.parse(text))
    }
}

/// A host file that could not be read or understood.
public struct HostFileError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path) \(reason)" }
}
