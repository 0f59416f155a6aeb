import Foundation
import Testing
@testable import NodeMetrics

/// Samples of real cgroups on this host, each made by the test with a real workload in it.
/// They need root and cgroup v1 or v2 mounted; in CI they run, never skip.
@Suite(.serialized) struct LiveCgroupTests {
    let layout: CgroupLayout
    let hierarchy: CgroupHierarchy
    let scratch = SampleScratch()

    init() throws {
        layout = try CgroupLayout.detect()
        hierarchy = try CgroupHierarchy(layout: layout, hugePageSizesKB: HugePages.sizesKB(paths: HostPaths()))
    }

    /// Polls `condition` on fresh samples for up to `seconds`; returns the last sample.
    func sample(of handle: CgroupHandle, within seconds: Double = 10,
                until condition: (ContainerSample) -> Bool) throws -> ContainerSample {
        let deadline = Date().addingTimeInterval(seconds)
        var s = try handle.sample(using: scratch)
        while !condition(s) && Date() < deadline {
            usleep(50_000)
            s = try handle.sample(using: scratch)
        }
        return s
    }

    @Test func cpuUsageGrowsWhileBusy() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        let before = try handle.sample(using: scratch)
        try cg.run("while :; do :; done")
        let after = try sample(of: handle) { $0.cpu.usage.total > before.cpu.usage.total + 200_000_000 }
        #expect(after.errors.isEmpty, "\(after.errors)")
        #expect(after.cpu.usage.total > before.cpu.usage.total + 200_000_000, "200 ms of CPU within 10 s")
        if layout.mode != .v2 {
            #expect(after.cpu.usage.perCPU.count == ProcessInfo.processInfo.activeProcessorCount)
            #expect(after.cpu.usage.perCPU.reduce(0, +) >= after.cpu.usage.total / 2)
        }
        let ticks = try sample(of: handle) { $0.cpu.usage.user + $0.cpu.usage.system > 0 }
        #expect(ticks.cpu.usage.user + ticks.cpu.usage.system > 0, "cpuacct.stat moves in 10 ms ticks")
        #expect(after.pids.current == 1)
        if layout.mode == .hybrid { #expect(after.cpuPressure != nil, "hybrid: cpu.pressure from the cgroup2 mount") }
    }

    @Test func memoryGrowsWhenTheProcessAllocates() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        let go = Pipe()
        // Joins first, waits for a line, then holds 64 MB in a shell variable.
        try cg.run(#"read go; x=$(head -c 64000000 /dev/zero | tr "\\0" a); sleep 60"#, stdin: go)
        let joined = try sample(of: handle) { $0.pids.current >= 1 }
        #expect(joined.pids.current >= 1)
        let baseline = try handle.sample(using: scratch)
        try go.fileHandleForWriting.write(contentsOf: Data("go\n".utf8))
        let grown = try sample(of: handle, within: 20) { $0.memory.rss > baseline.memory.rss + 50_000_000 }
        let withStat = try handle.sample(using: scratch, includeMemoryStat: true)
        #expect(grown.memory.usage > baseline.memory.usage + 50_000_000)
        #expect(grown.memory.rss > baseline.memory.rss + 50_000_000, "anonymous memory of the shell")
        #expect(grown.memory.workingSet > baseline.memory.workingSet + 50_000_000)
        #expect(grown.memory.workingSet <= grown.memory.usage)
        #expect(grown.memory.maxUsage >= grown.memory.usage || layout.mode == .v2)
        #expect(withStat.memoryStat.contains { $0.key == "total_rss" } || layout.mode == .v2)
    }

    @Test func pidsCurrentMatchesTheProcesses() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.set(.pids, "pids.max", "50")
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        try cg.run("sleep 60 & sleep 60 & sleep 60 & wait")
        let s = try sample(of: handle) { $0.pids.current == 4 }
        #expect(s.pids.current == 4, "the shell and three sleeps")
        #expect(s.pids.current == UInt64(cg.pids().count))
        #expect(s.pids.max == 50)
    }

    @Test func specReadsTheLimits() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.set(.cpu, "cpu.shares", "256")
        try cg.set(.cpu, "cpu.cfs_quota_us", "20000")
        try cg.set(.memory, "memory.limit_in_bytes", "134217728")
        let spec = try CgroupHandle(hierarchy: hierarchy, name: cg.name).spec(using: scratch)
        #expect(spec.errors.isEmpty, "\(spec.errors)")
        #expect(spec.cpuShares == 256 && spec.cpuQuota == 20000 && spec.cpuPeriod == 100_000)
        #expect(spec.memoryLimit == 134_217_728)
        #expect(!spec.cpuMask.isEmpty)
    }

    @Test(arguments: [true, false])
    func aRemovedCgroupIsGone(keepDescriptors: Bool) throws {
        let cg = try LiveCgroup(layout: layout)
        var destroyed = false
        defer { if !destroyed { cg.destroy() } }
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name, keepDescriptors: keepDescriptors)
        #expect(handle.openDescriptors > 0 || !keepDescriptors)
        _ = try handle.sample(using: scratch)
        cg.destroy()
        destroyed = true
        #expect(throws: CgroupError.gone(name: cg.name)) { try handle.sample(using: scratch) }
        #expect(throws: CgroupError.notFound(name: cg.name)) { try CgroupHandle(hierarchy: hierarchy, name: cg.name) }
    }

    @Test func hierarchiesCreatedAfterOpenAreAdopted() throws {
        // As a runtime does it: the cgroup appears in one hierarchy, is opened, then the others follow.
        let cg = try LiveCgroup(layout: layout, only: [.memory])
        defer { cg.destroy() }
        let budget = DescriptorBudget(total: 1000)
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name, budget: budget)
        let early = try handle.sample(using: scratch)
        #expect(early.cpu.usage.total == 0 && early.errors.isEmpty, "no cpu hierarchy yet: absent, not an error")
        let keptEarly = handle.openDescriptors
        try cg.createRemaining()
        try cg.run("while :; do :; done")
        let late = try sample(of: handle) { $0.cpu.usage.total > 0 && $0.pids.current == 1 }
        #expect(late.cpu.usage.total > 0, "cpuacct adopted after open")
        #expect(late.pids.current == 1, "pids adopted after open")
        #expect(handle.openDescriptors > keptEarly)
        #expect(budget.available == 1000 - handle.openDescriptors, "late descriptors are charged")
    }

    @Test func rootSampleIsTheHost() throws {
        let s = try CgroupHandle(hierarchy: hierarchy, name: "/").sample(using: scratch)
        #expect(s.cpu.usage.total > 0 && s.memory.usage > 0)
        #expect(s.errors.isEmpty, "\(s.errors)")
    }
}

/// The `node-metrics sample` command, run as a real process.
@Suite(.serialized) struct SampleCommandTests {
    let binary = Package.root + "/.build/debug/node-metrics"

    func run(_ args: [String]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func samplesTheRootAndALiveCgroup() throws {
        let (code, out, _) = try run(["sample", "/"])
        #expect(code == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let usage = (root["cpu"] as? [String: Any])?["usage"] as? [String: Any]
        #expect((usage?["total"] as? UInt64 ?? 0) > 0)
        #expect(((root["network"] as? [String: Any])?["interfaces"] as? [Any])?.isEmpty == false)

        let cg = try LiveCgroup(layout: try CgroupLayout.detect())
        defer { cg.destroy() }
        try cg.run("sleep 60 & sleep 60 & wait")
        usleep(300_000)
        let (code2, out2, _) = try run(["sample", cg.name])
        #expect(code2 == 0)
        let one = try #require(try JSONSerialization.jsonObject(with: Data(out2.utf8)) as? [String: Any])
        #expect((one["processes"] as? [String: Any])?["threads_current"] as? UInt64 == 3)
        #expect(((one["memory"] as? [String: Any])?["usage"] as? UInt64 ?? 0) > 0)
    }

    @Test func aNameThatIsNotACgroupFails() throws {
        let (code, out, err) = try run(["sample", "/no/such/cgroup"])
        #expect(code != 0)
        #expect(out.isEmpty)
        #expect(err.contains("/no/such/cgroup is not a cgroup"))
        let (code2, _, err2) = try run(["sample", "/a/../../etc"])
        #expect(code2 != 0 && err2.contains("must not contain .."))
    }
}
