import CCgroupFast
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Finds every cgroup directory of the host and follows changes: inotify watches on every directory
/// of every container hierarchy (the v1 controllers, or the unified mount on v2), read in coalesced
/// batches, plus full rescans that repair whatever inotify missed. A cgroup is known while at least
/// one hierarchy has it. When inotify cannot be used (watches or instances exhausted) it logs once and
/// lives on rescans. Owned by one thread.
public final class CgroupDiscovery {
    /// The mount points whose directories make containers.
    public let roots: [String]
    public let filter: ContainerFilter
    private let logger: Logger
    private(set) var inotifyFD: Int32 = -1
    /// Watch descriptor -> (root index, cgroup name).
    private var watches: [Int32: (root: Int, name: String)] = [:]
    /// Per root, the names watched there (for removals of whole subtrees).
    private var watchedNames: [[String: Int32]]
    /// In how many roots each cgroup exists.
    private var presence: [String: Int] = [:]
    /// The containers known now.
    public private(set) var known: Set<String> = []
    /// Why inotify is not in use, when it is not.
    public private(set) var inotifyFailure: String?
    private let batch = UnsafeMutablePointer<cgf_dir_batch>.allocate(capacity: 1)
    private let readBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64 * 1024)
    /// Counters for tests and the agent's own metrics.
    public private(set) var overflows = 0
    public private(set) var rescans = 0

    public init(layout: CgroupLayout, filter: ContainerFilter = ContainerFilter(),
                logger: Logger = Logger(label: "node-metrics.discovery")) {
        var roots: [String] = []
        for (controller, path) in layout.mountPoints.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let containerHierarchy = layout.mode == .v2 ? controller == .unified : controller != .unified
            if containerHierarchy && !roots.contains(path) { roots.append(path) }
        }
        self.roots = roots
        self.filter = filter
        self.logger = logger
        watchedNames = Array(repeating: [:], count: roots.count)
        batch.initialize(to: cgf_dir_batch())
    }

    deinit {
        if inotifyFD >= 0 { close(inotifyFD) }
        batch.deallocate()
        readBuffer.deallocate()
    }

    /// Number of inotify watches held.
    public var watchCount: Int { watches.count }

    /// Starts inotify and scans every root, watching each directory. Returns the containers found.
    @discardableResult
    public func start() -> [ContainerChange] {
        let fd = cgf_inotify_open()
        if fd < 0 {
            fail("inotify_init failed: \(String(cString: strerror(-fd))) (fs.inotify.max_user_instances?)")
        } else {
            inotifyFD = fd
        }
        return rescan()
    }

    /// Waits up to `timeoutMs` for inotify events and applies them. Overflow triggers a rescan.
    public func poll(timeoutMs: Int32) -> [ContainerChange] {
        guard inotifyFD >= 0 else {
            if timeoutMs > 0 { usleep(UInt32(timeoutMs).saturatingMultiply(1000)) }
            return []
        }
        let n = cgf_inotify_read_batch(inotifyFD, timeoutMs, batch, readBuffer, 64 * 1024)
        if n < 0 {
            logger.error("reading inotify failed", metadata: ["errno": "\(-n)"])
            return []
        }
        if batch.pointee.overflow != 0 {
            overflows += 1
            logger.warning("inotify queue overflowed; rescanning the cgroup hierarchies")
            return rescan()
        }
        var changes: [ContainerChange] = []
        withUnsafePointer(to: &batch.pointee.events) { tuple in
            tuple.withMemoryRebound(to: cgf_dir_event.self, capacity: Int(CGF_INOTIFY_MAX_EVENTS)) { events in
                for i in 0..<Int(n) {
                    let e = events[i]
                    guard let parent = watches[e.wd] else { continue }
                    let childName = withUnsafePointer(to: events[i].name) {
                        $0.withMemoryRebound(to: CChar.self, capacity: Int(CGF_INOTIFY_NAME_MAX)) { String(cString: $0) }
                    }
                    let child = parent.name == "/" ? "/" + childName : parent.name + "/" + childName
                    switch Int(e.kind) {
                    case Int(CGF_DIR_CREATED.rawValue):
                        addTree(root: parent.root, name: child, into: &changes)
                    case Int(CGF_DIR_REMOVED.rawValue):
                        removeTree(root: parent.root, name: child, into: &changes)
                    default:
                        // The watched directory itself is gone; its removal is reported by its parent
                        // (or, for a hierarchy root, found by the next rescan). Only the watch goes.
                        watches[e.wd] = nil
                        if watchedNames[parent.root][parent.name] == e.wd {
                            watchedNames[parent.root][parent.name] = -1
                        }
                    }
                }
            }
        }
        return changes
    }

    /// Walks every root and diffs the result against what is known; watches what is new.
    public func rescan() -> [ContainerChange] {
        rescans += 1
        var changes: [ContainerChange] = []
        for i in roots.indices {
            // Each directory is watched before it is listed: one made in between is reported by the
            // watch (a walk first and watches after it would miss it until the next rescan).
            let found = Self.walk(roots[i]) { addOne(root: i, name: $0, into: &changes) }
            for gone in Set(watchedNames[i].keys).subtracting(found) { removeOne(root: i, name: gone, into: &changes) }
        }
        return changes
    }

    /// Every directory under root from `start` as cgroup names ("/", "/a", "/a/b"); `visit` is called
    /// with each one before it is listed.
    static func walk(_ root: String, from start: String = "/", visit: (String) -> Void = { _ in }) -> Set<String> {
        var out: Set<String> = [start]
        var stack = [start]
        while let name = stack.popLast() {
            visit(name)
            guard let dir = opendir(name == "/" ? root : root + name) else { continue }
            while let entry = readdir(dir) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let child = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if child == "." || child == ".." { continue }
                let full = name == "/" ? "/" + child : name + "/" + child
                out.insert(full)
                stack.append(full)
            }
            closedir(dir)
        }
        return out
    }

    private func addTree(root: Int, name: String, into changes: inout [ContainerChange]) {
        // Watch first, then list, directory by directory: a subdirectory made in between is found.
        _ = Self.walk(roots[root], from: name) { addOne(root: root, name: $0, into: &changes) }
    }

    private func removeTree(root: Int, name: String, into changes: inout [ContainerChange]) {
        let prefix = name + "/"
        for n in watchedNames[root].keys where n == name || n.hasPrefix(prefix) {
            removeOne(root: root, name: n, into: &changes)
        }
    }

    private func addOne(root: Int, name: String, into changes: inout [ContainerChange]) {
        guard watchedNames[root][name] == nil else { return }
        var wd: Int32 = -1
        if inotifyFD >= 0 {
            wd = cgf_inotify_watch(inotifyFD, name == "/" ? roots[root] : roots[root] + name)
            if wd == -ENOSPC || wd == -EMFILE || wd == -ENOMEM {
                fail("inotify_add_watch failed for \(roots[root] + name): \(String(cString: strerror(-wd))) "
                     + "(fs.inotify.max_user_watches is exhausted); discovery continues by rescans only")
                wd = -1
            } else if wd < 0 {
                return // the directory vanished already
            }
        }
        watchedNames[root][name] = wd
        if wd >= 0 { watches[wd] = (root, name) }
        presence[name, default: 0] += 1
        if presence[name] == 1 && filter.includesRaw(name) {
            known.insert(name)
            changes.append(.added(name))
        }
    }

    private func removeOne(root: Int, name: String, into changes: inout [ContainerChange]) {
        guard let wd = watchedNames[root].removeValue(forKey: name) else { return }
        if wd >= 0 {
            watches[wd] = nil
            if inotifyFD >= 0 { _ = cgf_inotify_unwatch(inotifyFD, wd) }
        }
        let count = (presence[name] ?? 1) - 1
        presence[name] = count > 0 ? count : nil
        if count <= 0 && known.remove(name) != nil { changes.append(.removed(name)) }
    }

    /// Gives up on inotify: one clear log line, then rescans only.
    private func fail(_ message: String) {
        guard inotifyFailure == nil else { return }
        inotifyFailure = message
        logger.error("\(message)")
        if inotifyFD >= 0 {
            close(inotifyFD)
            inotifyFD = -1
        }
        watches.removeAll()
        for i in watchedNames.indices { for k in watchedNames[i].keys { watchedNames[i][k] = -1 } }
    }
}
