import Foundation
@testable import NodeMetrics

/// A real cgroup on this host for one test, under the test-owned parent `/node-metrics-test` in every
/// v1 controller (and the cgroup2 mount on hybrid hosts). `destroy()` kills whatever runs in it and
/// removes it; tests call it in `defer` so it runs when they fail too.
final class LiveCgroup {
    static let parent = "node-metrics-test"
    nonisolated(unsafe) static var counter = 0
    static let lock = NSLock()

    let layout: CgroupLayout
    /// The cgroup's name as the agent sees it: `/node-metrics-test/<pid>-<n>`.
    let name: String
    private(set) var processes: [Process] = []

    /// Directory of this cgroup in each mounted hierarchy.
    var directories: [CgroupController: String] {
        layout.mountPoints.mapValues { $0 + name }
    }

    /// Makes the cgroup in every hierarchy, or only in `only` (the rest with `createRemaining()`).
    init(layout: CgroupLayout, only: Set<CgroupController>? = nil) throws {
        self.layout = layout
        let n = LiveCgroup.lock.withLock { LiveCgroup.counter += 1; return LiveCgroup.counter }
        name = "/\(LiveCgroup.parent)/\(getpid())-\(n)"
        LiveCgroup.lock.withLock { LiveCgroup.sweepStale(layout: layout) }
        try create(only)
    }

    /// Makes the cgroup in the hierarchies that do not have it yet.
    func createRemaining() throws { try create(nil) }

    private func create(_ only: Set<CgroupController>?) throws {
        for (controller, dir) in directories where only?.contains(controller) ?? true {
            if FileManager.default.fileExists(atPath: dir) { continue }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if controller == .cpuset {
                // A v1 cpuset accepts tasks only once cpus and mems are set.
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    let parentValue = try String(contentsOfFile: layout.mountPoints[.cpuset]! + "/" + file, encoding: .utf8)
                    for d in [layout.mountPoints[.cpuset]! + "/" + LiveCgroup.parent, dir] {
                        try write(parentValue.trimmingCharacters(in: .whitespacesAndNewlines), to: d + "/" + file)
                    }
                }
            }
        }
    }

    /// Writes a control file of this cgroup.
    func set(_ controller: CgroupController, _ file: String, _ value: String) throws {
        try write(value, to: directories[controller]! + "/" + file)
    }

    private func write(_ value: String, to path: String) throws {
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        defer { try? handle.close() }
        try handle.write(contentsOf: Data(value.utf8))
    }

    /// Starts `script` under /bin/sh after the shell has moved itself into every hierarchy of this
    /// cgroup, so everything the script does is charged here.
    @discardableResult
    func run(_ script: String, stdin: Pipe? = nil) throws -> Process {
        let join = directories.values.sorted().map { "echo $$ > '\($0)/cgroup.procs'" }.joined(separator: " && ")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "\(join) && exec /bin/sh -c '\(script)'"]
        if let stdin { p.standardInput = stdin }
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        processes.append(p)
        return p
    }

    /// Pids currently in the cgroup (from the pids controller, else memory).
    func pids() -> [Int32] {
        let dir = directories[.pids] ?? directories[.memory] ?? directories.values.first!
        let text = (try? String(contentsOfFile: dir + "/cgroup.procs", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// Kills every process in the cgroup and removes it from every hierarchy.
    func destroy() {
        for _ in 0..<100 {
            let pids = self.pids()
            if pids.isEmpty { break }
            pids.forEach { kill($0, SIGKILL) }
            usleep(20_000)
        }
        for p in processes where p.isRunning { p.waitUntilExit() }
        for dir in directories.values {
            for _ in 0..<50 where rmdir(dir) != 0 && errno == EBUSY { usleep(20_000) }
        }
        for root in layout.mountPoints.values { rmdir(root + "/" + LiveCgroup.parent) } // only when empty
    }

    /// Removes leftovers of earlier runs that died before cleaning up (empty cgroups only).
    static func sweepStale(layout: CgroupLayout) {
        for root in layout.mountPoints.values {
            let parentDir = root + "/" + parent
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parentDir)) ?? [] {
                let pid = Int32(child.split(separator: "-").first ?? "") ?? 0
                if pid != getpid() && kill(pid, 0) != 0 { rmdir(parentDir + "/" + child) }
            }
        }
    }
}
