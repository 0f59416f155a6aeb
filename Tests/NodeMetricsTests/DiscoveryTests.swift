import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

/// A temporary directory tree standing in for a cgroup hierarchy (inotify behaves the same on tmpfs).
typealias TempTree = TemporaryDirectory
extension TemporaryDirectory {
    var root: String { path }
    var layout: CgroupLayout { CgroupLayout(mode: .v1, mountPoints: [.memory: path]) }
}

/// Watches the kernel holds for an inotify descriptor (its fdinfo lists one "inotify wd:" line each).
func kernelWatchCount(_ fd: Int32) -> Int {
    let info = (try? String(contentsOfFile: "/proc/self/fdinfo/\(fd)", encoding: .utf8)) ?? ""
    return info.split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
}

/// Polls discovery until `done` or the deadline.
func drain(_ d: CgroupDiscovery, seconds: Double = 10, until done: () -> Bool) {
    let deadline = Date().addingTimeInterval(seconds)
    while !done() && Date() < deadline { _ = d.poll(timeoutMs: 50) }
}

extension InotifyUsers {
@Suite struct DiscoveryTests {
    @Test func coalescesACreateAndRemoveInOneBatch() throws {
        let tree = try TempTree()
        let fd = cgf_inotify_open()
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(cgf_inotify_watch(fd, tree.root) >= 0)
        mkdir(tree.root + "/a", 0o755)
        rmdir(tree.root + "/a")
        mkdir(tree.root + "/b", 0o755)
        let batch = UnsafeMutablePointer<cgf_dir_batch>.allocate(capacity: 1)
        defer { batch.deallocate() }
        var buf = [CChar](repeating: 0, count: 65536)
        let n = cgf_inotify_read_batch(fd, 1000, batch, &buf, buf.count)
        #expect(n == 1)
        #expect(batch.pointee.raw_events == 3 && batch.pointee.cancelled == 1)
        #expect(batch.pointee.events.0.kind == Int32(CGF_DIR_CREATED.rawValue))
    }

    @Test func aBurstOf500IsSeenCompletelyAndLeavesNothingBehind() throws {
        let tree = try TempTree()
        let d = CgroupDiscovery(layout: tree.layout)
        #expect(d.start() == [.added("/")])
        let watchesBefore = d.watchCount
        #expect(kernelWatchCount(d.inotifyFD) == watchesBefore)
        let names = (0..<500).map { "/c\($0)" }
        for n in names { mkdir(tree.root + n, 0o755) }
        drain(d) { names.allSatisfy(d.known.contains) }
        #expect(names.allSatisfy(d.known.contains), "all 500 created directories are known")
        #expect(d.watchCount == watchesBefore + 500)
        for n in names { rmdir(tree.root + n) }
        drain(d) { d.known == ["/"] }
        #expect(d.known == ["/"], "all 500 removals seen")
        #expect(d.watchCount == watchesBefore, "no watch leaked")
        #expect(kernelWatchCount(d.inotifyFD) == watchesBefore, "the kernel holds no stale watch")
        #expect(d.overflows == 0 && d.rescans == 1)
    }

    @Test func nestedDirectoriesMadeQuicklyAreFound() throws {
        let tree = try TempTree()
        let d = CgroupDiscovery(layout: tree.layout)
        d.start()
        try FileManager.default.createDirectory(atPath: tree.root + "/kubepods/burstable/pod1/ctr", withIntermediateDirectories: true)
        drain(d) { d.known.contains("/kubepods/burstable/pod1/ctr") }
        #expect(d.known == ["/", "/kubepods", "/kubepods/burstable", "/kubepods/burstable/pod1", "/kubepods/burstable/pod1/ctr"])
        try FileManager.default.removeItem(atPath: tree.root + "/kubepods")
        drain(d) { d.known == ["/"] }
        #expect(d.known == ["/"])
    }

    @Test func anOverflowRecoversThroughARescan() throws {
        let tree = try TempTree()
        let d = CgroupDiscovery(layout: tree.layout)
        d.start()
        // More events than the kernel queues (fs.inotify.max_queued_events, 16384 here) before reading.
        let queued = Int((try? String(contentsOfFile: "/proc/sys/fs/inotify/max_queued_events", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "16384") ?? 16384
        let count = queued + 500
        for i in 0..<count { mkdir(tree.root + "/d\(i)", 0o755) }
        drain(d, seconds: 30) { d.known.count == count + 1 }
        #expect(d.overflows >= 1, "the queue overflowed")
        #expect(d.known.count == count + 1, "the rescan found everything")
        #expect(d.rescans >= 2)
    }

    @Test func rescansRepairWithoutInotify() throws {
        let tree = try TempTree()
        let d = CgroupDiscovery(layout: tree.layout)
        d.start()
        mkdir(tree.root + "/x", 0o755)
        #expect(d.rescan() == [.added("/x")])
        rmdir(tree.root + "/x")
        #expect(d.rescan() == [.removed("/x")])
    }

    @Test func dockerOnlyKeepsTheRootAndWhitelistedPrefixes() throws {
        let tree = try TempTree()
        for p in ["/system.slice/a", "/kubepods/x", "/other"] {
            try FileManager.default.createDirectory(atPath: tree.root + p, withIntermediateDirectories: true)
        }
        let d = CgroupDiscovery(layout: tree.layout, filter: ContainerFilter(dockerOnly: true, rawPrefixWhitelist: ["/kubepods"]))
        d.start()
        #expect(d.known == ["/", "/kubepods", "/kubepods/x"])
    }

    @Test func realCgroupsAcrossHierarchies() throws {
        let layout = try CgroupLayout.detect()
        let d = CgroupDiscovery(layout: layout)
        d.start()
        #expect(d.inotifyFailure == nil)
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        drain(d) { d.known.contains(cg.name) }
        #expect(d.known.contains(cg.name))
        cg.destroy()
        drain(d) { !d.known.contains(cg.name) }
        #expect(!d.known.contains(cg.name), "gone only once every hierarchy removed it")
    }
}
}

/// Suites that hold inotify watches run one after another: one of them lowers the system-wide
/// watch limit for a moment.
@Suite(.serialized) struct InotifyUsers {}

extension InotifyUsers.DiscoveryTests {
    /// Watches the user root holds in all processes (fdinfo "inotify wd:" lines).
    static func watchesHeldByRoot() -> Int {
        var total = 0
        for pid in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(pid) != nil {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fdinfo")) ?? [] {
                guard let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(fd)", encoding: .utf8),
                      info.contains("inotify wd:") else { continue }
                total += info.split(separator: "\n").filter { $0.hasPrefix("inotify wd:") }.count
            }
        }
        return total
    }

    @Test func runningOutOfWatchesFallsBackToRescans() throws {
        let limitFile = "/proc/sys/fs/inotify/max_user_watches"
        let original = try String(contentsOfFile: limitFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let tree = try TempTree()
        for i in 0..<40 { mkdir(tree.root + "/c\(i)", 0o755) }
        try "\(Self.watchesHeldByRoot() + 20)\n".write(toFile: limitFile, atomically: false, encoding: .utf8)
        defer { try? "\(original)\n".write(toFile: limitFile, atomically: false, encoding: .utf8) }
        let d = CgroupDiscovery(layout: tree.layout)
        d.start()
        let failure = try #require(d.inotifyFailure, "the watch limit was hit")
        #expect(failure.contains("No space left on device") && failure.contains("max_user_watches"))
        #expect(d.known.count == 41, "everything is known all the same")
        #expect(d.watchCount == 0, "no watches kept once inotify is off")
        try "\(original)\n".write(toFile: limitFile, atomically: false, encoding: .utf8)
        mkdir(tree.root + "/late", 0o755)
        #expect(d.poll(timeoutMs: 10).isEmpty, "no inotify any more")
        #expect(d.rescan() == [.added("/late")], "rescans keep the set right")
    }
}
