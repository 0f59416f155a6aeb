import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Disk usage of containers and pods, measured off the sampling path, as cAdvisor's fsHandler does:
/// each container's directories are walked once a minute, and a container whose walk takes longer
/// than a second is walked less often (the interval doubles, up to 20 minutes) so a huge layer cannot
/// eat the agent. A new container's layer fills as it starts, so its first three walks are 5 s apart.
///
/// - Docker and Podman containers: the writable layer plus the log directory, stored with the
///   container; housekeeping puts it into each sample as a `filesystem` entry on the layer's device
///   (capacity and type from machine info, as cAdvisor reports them).
/// - Every Kubernetes container (any runtime): the kubelet's `rootfs` (the writable layer: Docker's
///   UpperDir, else the overlay upper directory of the container's root in its mountinfo — containerd
///   snapshotters, CRI-O) and `logs` (`/var/log/pods/<ns>_<pod>_<uid>/<container>/`), with their
///   filesystems' statvfs, for the Summary API.
/// - The node, every 10 s for what is new and once a minute (same backoff) for the rest: the
///   runtime's image filesystem (`imageFs`, the first of `imageFsDirectories` that exists) and every
///   pod volume under `/var/lib/kubelet/pods/<uid>/volumes/<plugin>/<name>`.
public final class LayerUsage: Sendable {
    public let store: ContainerStore
    public let paths: HostPaths
    private let machineInfo: @Sendable () -> MachineInfo
    private let logger: Logger
    public static let interval: Int64 = 60_000_000_000
    public static let maxBackoff: Int64 = 20
    public static let warmUpInterval: Int64 = 5_000_000_000
    public static let warmUpWalks = 3
    /// How often the pod volume tree is listed for new volumes.
    public static let volumeListInterval: Int64 = 10_000_000_000

    /// Where the runtimes keep images and writable layers, in the order looked for: containerd's
    /// overlayfs snapshotter, CRI-O's (and Podman's) storage, Docker's data root.
    public static let imageFsDirectories = ["/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs",
                                            "/var/lib/containers/storage", "/var/lib/docker"]
    /// The kubelet's pod directories and the pod log tree.
    public static let kubeletPodsDirectory = "/var/lib/kubelet/pods"
    public static let podLogsDirectory = "/var/log/pods"

    /// What the node walk found: the image filesystem, the filesystem of the kubelet's directory, and
    /// the volumes of each pod (by pod uid).
    public struct NodeDisk: Sendable, Equatable {
        public var imageFs: FsUsage?
        public var imageFsDirectory = ""
        public var kubeletFs: FsUsage?
        public var volumes: [String: [PodVolumeUsage]] = [:]
    }
    private let node = Mutex(NodeDisk())
    /// The last node walk's result.
    public var nodeDisk: NodeDisk { node.withLock { $0 } }

    struct Schedule {
        var due: Int64
        var factor: Int64
        var walks = 0
    }
    private let state = Mutex<(running: Bool, schedule: [String: Schedule])>((true, [:]))
    /// Node walks by host path (the image filesystem, each volume), and when the volume tree is listed next.
    private let nodeSchedule = Mutex<(paths: [String: Schedule], nextListing: Int64)>(([:], 0))
    private let wake = Semaphore()

    public init(store: ContainerStore, paths: HostPaths, machineInfo: @escaping @Sendable () -> MachineInfo, logger: Logger) {
        self.store = store
        self.paths = paths
        self.machineInfo = machineInfo
        self.logger = logger
    }

    /// Starts the walker; a thread that cannot be started is logged and layers go unmeasured.
    public func start() {
        do {
            _ = try BackgroundThread(name: "nm-layer-usage") { [self] in loop() }
        } catch {
            logger.error("no writable layer usage: \(error)")
        }
    }

    public func stop() {
        state.withLock { $0.running = false }
        wake.signal()
    }

    /// Measure a container soon (its metadata just arrived).
    public func containerChanged(_ name: String) {
        state.withLock { $0.schedule[name, default: Schedule(due: 0, factor: 1)].due = 0 }
        wake.signal()
    }

    private func loop() {
        while state.withLock({ $0.running }) {
            _ = wake.wait(timeoutMs: 1000)
            let now = Clocks.monotonicNanos()
            let due: [String] = state.withLock { s in
                s.schedule = s.schedule.filter { store.contains($0.key) }
                return s.schedule.filter { $0.value.due <= now }.map(\.key)
            }
            for name in due.sorted() { measure(name) }
            walkNode()
        }
    }

    /// True when a container has a directory worth walking: Docker's and Podman's layers (cAdvisor's
    /// container_fs_*), and the containers of a Kubernetes pod (the kubelet's rootfs and logs).
    static func measures(_ m: ContainerMetadata) -> Bool {
        !m.writableLayer.isEmpty || (m.pid > 0 && !m.podUID.isEmpty && !m.containerName.isEmpty && m.containerName != "POD")
    }

    /// The kubelet's log directory of a pod's container; empty for other containers.
    static func podLogDirectory(_ m: ContainerMetadata) -> String {
        guard !m.podNamespace.isEmpty, !m.podName.isEmpty, !m.podUID.isEmpty, !m.containerName.isEmpty,
              m.containerName != "POD", !m.containerName.includes("/") else { return "" }
        return "\(podLogsDirectory)/\(m.podNamespace)_\(m.podName)_\(m.podUID)/\(m.containerName)"
    }

    /// The image filesystem and the pod volumes, each path when due.
    private func walkNode() {
        let now = Clocks.monotonicNanos()
        let (due, list): ([String], Bool) = nodeSchedule.withLock { s in
            let list = s.nextListing <= now
            if list { s.nextListing = now + Self.volumeListInterval }
            return (s.paths.filter { $0.value.due <= now }.map(\.key), list)
        }
        guard list || !due.isEmpty else { return }
        var disk = node.withLock { $0 }
        var walk = Set(due)
        if list {
            // New volumes are walked at once; gone ones are forgotten.
            let imageDir = Self.imageFsDirectories.first { FileManager.default.fileExists(atPath: paths.path($0)) } ?? ""
            if imageDir != disk.imageFsDirectory { disk.imageFs = nil; disk.imageFsDirectory = imageDir }
            var known: Set<String> = imageDir.isEmpty ? [] : [imageDir]
            let pods = paths.path(Self.kubeletPodsDirectory)
            disk.kubeletFs = DirectoryUsage.filesystem(pods, timeNanos: Clocks.wallNanos())
            var volumes: [String: [PodVolumeUsage]] = [:]
            for uid in Self.entries(pods) {
                for plugin in Self.entries("\(pods)/\(uid)/volumes") {
                    for name in Self.entries("\(pods)/\(uid)/volumes/\(plugin)") {
                        let path = "\(Self.kubeletPodsDirectory)/\(uid)/volumes/\(plugin)/\(name)"
                        known.insert(path)
                        if let old = disk.volumes[uid]?.first(where: { $0.plugin == plugin && $0.name == name }) {
                            volumes[uid, default: []].append(old)
                        } else {
                            walk.insert(path)
                        }
                    }
                }
            }
            disk.volumes = volumes.mapValues { $0.sorted { ($0.name, $0.plugin) < ($1.name, $1.plugin) } }
            if !imageDir.isEmpty && disk.imageFs == nil { walk.insert(imageDir) }
            nodeSchedule.withLock { s in s.paths = s.paths.filter { known.contains($0.key) } }
        }
        for path in walk.sorted() {
            let started = Clocks.monotonicNanos()
            let usage = DirectoryUsage.measure(paths.path(path))
            let took = Clocks.monotonicNanos() - started
            nodeSchedule.withLock { s in s.paths[path] = Self.next(after: s.paths[path], tookNanos: took, warmUp: false) }
            if took > 1_000_000_000 {
                logger.info("directory walk is slow; measuring it less often",
                            metadata: ["path": "\(path)", "seconds": "\(Double(took) / 1e9)"])
            }
            if path == disk.imageFsDirectory {
                disk.imageFs = usage
            } else {
                let parts = path.dropFirst(Self.kubeletPodsDirectory.count + 1).split(separator: "/").map(String.init)
                // <uid>/volumes/<plugin>/<name>
                guard parts.count == 4, let usage else { continue }
                var own = stat(), pod = stat()
                let onPod = stat(paths.path(path), &own) == 0 && stat(paths.path("\(Self.kubeletPodsDirectory)/\(parts[0])"), &pod) == 0
                    && own.st_dev == pod.st_dev
                var podVolumes = disk.volumes[parts[0], default: []]
                podVolumes.removeAll { $0.plugin == parts[2] && $0.name == parts[3] }
                podVolumes.append(PodVolumeUsage(name: parts[3], plugin: parts[2], usage: usage, onPodFilesystem: onPod))
                disk.volumes[parts[0]] = podVolumes.sorted { ($0.name, $0.plugin) < ($1.name, $1.plugin) }
            }
        }
        node.withLock { $0 = disk }
    }

    /// The names in a directory (none when it cannot be read).
    static func entries(_ dir: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    /// The schedule after a walk that took `tookNanos`: a minute later, or 5 s during a container's
    /// warm-up, the interval doubling (up to 20 minutes) while walks take over a second.
    static func next(after previous: Schedule?, tookNanos: Int64, warmUp: Bool) -> Schedule {
        let slow = tookNanos > 1_000_000_000
        let factor = slow ? min((previous?.factor ?? 1) * 2, maxBackoff) : 1
        let walks = (previous?.walks ?? 0) + 1
        let wait = warmUp && walks < warmUpWalks && factor == 1 ? warmUpInterval : interval * factor
        return Schedule(due: Clocks.monotonicNanos() + wait, factor: factor, walks: walks)
    }

    private func measure(_ name: String) {
        guard let m = store.metadata(name), Self.measures(m) else {
            state.withLock { _ = $0.schedule.removeValue(forKey: name) }
            return
        }
        let started = Clocks.monotonicNanos()
        let now = Clocks.wallNanos()
        let layerHostPath = !m.writableLayer.isEmpty ? m.writableLayer : DirectoryUsage.writableLayer(pid: m.pid, paths: paths)
        let layer = layerHostPath.map { paths.path($0) } ?? ""
        guard let base = layerHostPath != nil ? Self.usage(of: layer) : nil else {
            logger.debug("writable layer not readable", metadata: ["name": "\(name)", "path": "\(layer)"])
            reschedule(name, tookNanos: 0)
            return
        }
        var logWalks: [String: (bytes: UInt64, inodes: UInt64)] = [:]
        func logs(_ dir: String) -> (bytes: UInt64, inodes: UInt64)? {
            if let known = logWalks[dir] { return known }
            let walked = Self.usage(of: paths.path(dir))
            logWalks[dir] = walked
            return walked
        }
        // The kubelet's view: rootfs and logs, each with its filesystem.
        var disk = KubeletDiskUsage()
        if var rootfs = DirectoryUsage.filesystem(layer, timeNanos: now) {
            rootfs.usedBytes = base.bytes
            rootfs.inodesUsed = base.inodes
            disk.rootfs = rootfs
        }
        let kubeletLogs = Self.podLogDirectory(m).isEmpty ? m.logDirectory : Self.podLogDirectory(m)
        if !kubeletLogs.isEmpty, let walked = logs(kubeletLogs),
           var fs = DirectoryUsage.filesystem(paths.path(kubeletLogs), timeNanos: now) {
            fs.usedBytes = walked.bytes
            fs.inodesUsed = walked.inodes
            disk.logs = fs
        }
        store.updateKubeletDisk(name, disk)
        // cAdvisor's view (Docker and Podman only): one filesystem entry, layer plus logs.
        if !m.writableLayer.isEmpty {
            let logUsage = m.logDirectory.isEmpty ? (bytes: UInt64(0), inodes: UInt64(0)) : (logs(m.logDirectory) ?? (0, 0))
            var fs = FilesystemStats(device: "", type: "")
            var st = stat()
            if stat(layer, &st) == 0 {
                for mounted in machineInfo().filesystems {
                    var mst = stat()
                    if stat(paths.path(mounted.mountPoint), &mst) == 0 && mst.st_dev == st.st_dev {
                        fs = FilesystemStats(device: mounted.device, type: mounted.type)
                        fs.capacity = mounted.capacity
                        break
                    }
                }
            }
            fs.baseUsage = base.bytes
            fs.usage = base.bytes.saturatingAdd(logUsage.bytes)
            fs.inodes = base.inodes.saturatingAdd(logUsage.inodes)
            store.updateLayerUsage(name, fs)
        }
        reschedule(name, tookNanos: Clocks.monotonicNanos() - started)
    }

    private func reschedule(_ name: String, tookNanos: Int64) {
        let factor: Int64 = state.withLock { s in
            let next = Self.next(after: s.schedule[name], tookNanos: tookNanos, warmUp: true)
            s.schedule[name] = next
            return next.factor
        }
        if tookNanos > 1_000_000_000 {
            logger.info("writable layer walk is slow; measuring it less often",
                        metadata: ["name": "\(name)", "seconds": "\(Double(tookNanos) / 1e9)", "interval_minutes": "\(factor)"])
        }
    }

    /// Bytes (allocated blocks, as du) and inodes under `path`, hard links counted once; nil when
    /// `path` cannot be read. Symbolic links are not followed; mount points below are not crossed.
    static func usage(of path: String) -> (bytes: UInt64, inodes: UInt64)? {
        var root = stat()
        guard lstat(path, &root) == 0 else { return nil }
        // st_blocks is what the filesystem says (a FUSE one may say anything): clamped and saturated.
        func size(_ st: stat) -> UInt64 { UInt64(clamping: st.st_blocks).saturatingMultiply(512) }
        var bytes = size(root), inodes: UInt64 = 1
        var seen = Set<UInt64>()
        var pending = (root.st_mode & S_IFMT) == S_IFDIR ? [path] : []
        while let dir = pending.popLast() {
            guard let d = opendir(dir) else { continue }
            while let entry = readdir(d) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                let child = dir + "/" + name
                var st = stat()
                guard lstat(child, &st) == 0 else { continue } // removed while walking
                if st.st_nlink > 1 && (st.st_mode & S_IFMT) != S_IFDIR {
                    guard seen.insert(UInt64(st.st_ino)).inserted else { continue }
                }
                bytes = bytes.saturatingAdd(size(st))
                inodes += 1
                if (st.st_mode & S_IFMT) == S_IFDIR && st.st_dev == root.st_dev { pending.append(child) }
            }
            closedir(d)
        }
        return (bytes, inodes)
    }
}
