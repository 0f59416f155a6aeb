import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Disk usage of Docker and Podman containers — the writable layer plus the log directory — measured
/// off the sampling path, as cAdvisor's fsHandler does: each container's directories are walked once a
/// minute, and a container whose walk takes longer than a second is walked less often (the interval
/// doubles, up to 20 minutes) so a huge layer cannot eat the agent. A new container's layer fills as
/// it starts, so its first three walks are 5 s apart. The result is stored with the
/// container; housekeeping puts it into each sample as a `filesystem` entry on the layer's device
/// (capacity and type from machine info, as cAdvisor reports them).
public final class LayerUsage: Sendable {
    public let store: ContainerStore
    public let paths: HostPaths
    private let machineInfo: @Sendable () -> MachineInfo
    private let logger: Logger
    public static let interval: Int64 = 60_000_000_000
    public static let maxBackoff: Int64 = 20
    public static let warmUpInterval: Int64 = 5_000_000_000
    public static let warmUpWalks = 3

    struct Schedule {
        var due: Int64
        var factor: Int64
        var walks = 0
    }
    private let state = Mutex<(running: Bool, schedule: [String: Schedule])>((true, [:]))
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
        }
    }

    private func measure(_ name: String) {
        guard let m = store.metadata(name), !m.writableLayer.isEmpty else {
            state.withLock { _ = $0.schedule.removeValue(forKey: name) }
            return
        }
        let started = Clocks.monotonicNanos()
        let layer = paths.path(m.writableLayer)
        guard let base = Self.usage(of: layer) else {
            logger.debug("writable layer not readable", metadata: ["name": "\(name)", "path": "\(layer)"])
            reschedule(name, tookNanos: 0)
            return
        }
        let logs = m.logDirectory.isEmpty ? (bytes: UInt64(0), inodes: UInt64(0)) : (Self.usage(of: paths.path(m.logDirectory)) ?? (0, 0))
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
        fs.usage = base.bytes.saturatingAdd(logs.bytes)
        fs.inodes = base.inodes.saturatingAdd(logs.inodes)
        store.updateLayerUsage(name, fs)
        reschedule(name, tookNanos: Clocks.monotonicNanos() - started)
    }

    private func reschedule(_ name: String, tookNanos: Int64) {
        let slow = tookNanos > 1_000_000_000
        let factor: Int64 = state.withLock { s in
            let previous = s.schedule[name]
            let factor = slow ? min((previous?.factor ?? 1) * 2, Self.maxBackoff) : 1
            let walks = (previous?.walks ?? 0) + 1
            let wait = walks < Self.warmUpWalks && factor == 1 ? Self.warmUpInterval : Self.interval * factor
            s.schedule[name] = Schedule(due: Clocks.monotonicNanos() + wait, factor: factor, walks: walks)
            return factor
        }
        if slow {
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
