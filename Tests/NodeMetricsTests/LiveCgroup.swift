import Foundation
@testable import NodeMetrics

/// The host's cgroup layout, read once: the live suites' traits use it to run a check only where it
/// applies (`.enabled(if: HostCgroups.isV2)`), so a v1-only or v2-only check says so in its name.
enum HostCgroups {
    static let layout: CgroupLayout? = try? CgroupLayout.detect()
    /// A pure cgroup v2 host (the VM guest of scripts/vm-test.sh).
    static var isV2: Bool { layout?.mode == .v2 }
    /// A host with v1 controllers (v1 only or hybrid, as this development machine).
    static var hasV1Controllers: Bool { layout.map { $0.mode != .v2 } ?? false }
    /// systemd is PID 1 (the VM guest).
    static var systemdIsInit: Bool { FileManager.default.fileExists(atPath: "/run/systemd/system") }
}

/// A real cgroup on this host for one test, under the test-owned parent `/node-metrics-test`: in every
/// v1 controller (and the cgroup2 mount on hybrid hosts), or on a pure v2 host in the one hierarchy
/// with the parent's `cgroup.subtree_control` enabling every controller the root offers.
/// `destroy()` kills whatever runs in it and removes it; tests call it in `defer` so it runs when they
/// fail too. Limits are set through `limit…` functions that write the v1 or the v2 file.
final class LiveCgroup {
    static let parent = "node-metrics-test"
    nonisolated(unsafe) static var counter = 0
    static let lock = NSLock()

    let layout: CgroupLayout
    /// The cgroup's name as the agent sees it: `/node-metrics-test/<pid>-<n>`.
    let name: String
    private(set) var processes: [Process] = []

    var isV2: Bool { layout.mode == .v2 }

    /// Directory of this cgroup in each mounted hierarchy.
    var directories: [CgroupController: String] {
        layout.mountPoints.mapValues { $0 + name }
    }

    /// The directory that holds `controller`'s files: its own hierarchy on v1, the one directory on v2.
    func directory(_ controller: CgroupController) throws -> String {
        guard let dir = directories[isV2 ? .unified : controller] else {
            throw LiveCgroupError.noHierarchy(controller)
        }
        return dir
    }

    /// Makes the cgroup in every hierarchy, or only in `only` (v1: the rest with `createRemaining()`).
    init(layout: CgroupLayout, only: Set<CgroupController>? = nil) throws {
        self.layout = layout
        let n = LiveCgroup.lock.withLock { LiveCgroup.counter += 1; return LiveCgroup.counter }
        name = "/\(LiveCgroup.parent)/\(getpid())-\(n)"
        // Under the lock: another test's destroy() must not remove the parent in between (on v2 a
        // parent made again by createDirectory would give its child no controllers).
        try LiveCgroup.lock.withLock {
            LiveCgroup.sweepStale(layout: layout)
            if layout.mode == .v2 { try LiveCgroup.prepareV2Parent(layout: layout) }
            try create(only)
        }
    }

    /// Makes the cgroup in the hierarchies that do not have it yet.
    func createRemaining() throws { try create(nil) }

    private func create(_ only: Set<CgroupController>?) throws {
        for (controller, dir) in directories where only?.contains(controller) ?? true {
            if FileManager.default.fileExists(atPath: dir) { continue }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            if controller == .cpuset, let cpusetRoot = layout.mountPoints[.cpuset] {
                // A v1 cpuset accepts tasks only once cpus and mems are set.
                for file in ["cpuset.cpus", "cpuset.mems"] {
                    let parentValue = try String(contentsOfFile: cpusetRoot + "/" + file, encoding: .utf8)
                    for d in [cpusetRoot + "/" + LiveCgroup.parent, dir] {
                        try LiveCgroup.write(parentValue.trimmingCharacters(in: .whitespacesAndNewlines), to: d + "/" + file)
                    }
                }
            }
        }
    }

    /// v2: the test parent exists and its children get every controller the root offers (the root's
    /// own `subtree_control` is extended first where systemd left one out, e.g. hugetlb).
    private static func prepareV2Parent(layout: CgroupLayout) throws {
        guard let root = layout.mountPoints[.unified] else { throw LiveCgroupError.noHierarchy(.unified) }
        let parentDir = root + "/" + parent
        if !FileManager.default.fileExists(atPath: parentDir) {
            try FileManager.default.createDirectory(atPath: parentDir, withIntermediateDirectories: true)
        }
        let offered = ((try? String(contentsOfFile: root + "/cgroup.controllers", encoding: .utf8)) ?? "")
            .split(whereSeparator: \.isWhitespace)
        for controller in offered {
            // One controller per write: a controller the kernel refuses (rdma, misc) does not stop the rest.
            try? write("+\(controller)", to: root + "/cgroup.subtree_control")
            try? write("+\(controller)", to: parentDir + "/cgroup.subtree_control")
        }
    }

    /// Writes a control file of this cgroup (`controller` picks the v1 hierarchy; on v2 the one directory).
    func set(_ controller: CgroupController, _ file: String, _ value: String) throws {
        try LiveCgroup.write(value, to: try directory(controller) + "/" + file)
    }

    /// Memory limit without swap: `memory.limit_in_bytes` (and memsw where swap accounting is on) on
    /// v1, `memory.max` (and `memory.swap.max` 0) on v2.
    func limitMemory(bytes: UInt64) throws {
        if isV2 {
            try set(.memory, "memory.max", "\(bytes)")
            try? set(.memory, "memory.swap.max", "0")
            return
        }
        try set(.memory, "memory.limit_in_bytes", "\(bytes)")
        try? set(.memory, "memory.memsw.limit_in_bytes", "\(bytes)")
    }

    /// CFS quota per period in µs: `cpu.cfs_quota_us`/`cpu.cfs_period_us` on v1, `cpu.max` on v2.
    func limitCPU(quotaMicroseconds: UInt64, periodMicroseconds: UInt64 = 100_000) throws {
        if isV2 { try set(.cpu, "cpu.max", "\(quotaMicroseconds) \(periodMicroseconds)"); return }
        try set(.cpu, "cpu.cfs_period_us", "\(periodMicroseconds)")
        try set(.cpu, "cpu.cfs_quota_us", "\(quotaMicroseconds)")
    }

    /// Maximum number of tasks (`pids.max`, the same file on v1 and v2).
    func limitPids(_ max: UInt64) throws { try set(.pids, "pids.max", "\(max)") }

    static func write(_ value: String, to path: String) throws {
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

    /// Pids currently in the cgroup (from the pids hierarchy, else memory, else any).
    func pids() -> [Int32] {
        guard let dir = directories[isV2 ? .unified : .pids] ?? directories[.memory] ?? directories.values.first else { return [] }
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
        LiveCgroup.lock.withLock {
            for root in layout.mountPoints.values { rmdir(root + "/" + LiveCgroup.parent) } // only when empty
        }
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

enum LiveCgroupError: Error, CustomStringConvertible {
    case noHierarchy(CgroupController)
    var description: String { "no \(rawName) hierarchy is mounted on this host" }
    private var rawName: String { switch self { case .noHierarchy(let c): c.rawValue } }
}
