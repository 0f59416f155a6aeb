import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

/// Whole-file reads of kernel files, which report a size of 0 (procfs) or 4096 (sysfs, cgroupfs)
/// whatever they hold.
@Suite struct HostFilesTests {
    @Test func readsKernelFilesWhateverSizeTheyReport() throws {
        let status = try #require(HostFiles.read("/proc/self/status"))
        #expect(status.hasPrefix("Name:"))
        #expect(status.contains("\nVmRSS:"))
        let stat = try #require(HostFiles.read("/proc/stat"))
        #expect(stat.hasPrefix("cpu "))
    }

    @Test func readsFilesLargerThanTheFirstBuffer() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("nm-hostfiles-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let line = String(repeating: "x", count: 99) + "\n"
        let text = String(repeating: line, count: 1000) // 100,000 bytes: three doublings past 16 KiB
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        #expect(HostFiles.read(path) == text)
        #expect(HostFiles.firstLine(path) == String(repeating: "x", count: 99))
    }

    @Test func missingFilesAndDirectoriesAreNil() {
        #expect(HostFiles.read("/proc/self/no-such-file") == nil)
        #expect(HostFiles.read("/proc/self") == nil)
        #expect(HostFiles.firstLine("/proc/self/no-such-file") == nil)
    }

    /// The `cgroup.procs` of an empty cgroup reads as "" and the read keeps no memory.
    /// `FileManager.contents(atPath:)` kept a 4 KiB chunk per such read (4000 reads: 16 MiB).
    @Test func emptyKernelFilesKeepNoMemory() throws {
        let layout = try CgroupLayout.detect()
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        let dir = try #require(cg.directories[.pids] ?? cg.directories[.memory] ?? cg.directories[.unified])
        let path = dir + "/cgroup.procs"
        #expect(HostFiles.read(path) == "")
        let before = cgf_heap_in_use()
        for _ in 0..<4000 { #expect(HostFiles.read(path) == "") }
        let kept = Int64(bitPattern: cgf_heap_in_use() &- before)
        #expect(kept < 4 << 20, "4000 reads of an empty cgroup.procs kept \(kept) bytes of heap")
    }
}
