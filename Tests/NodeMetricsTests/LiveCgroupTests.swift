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
        let deadline = Date().addingTimeInterval(seconds * TestTiming.slowdown)
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
        if layout.mode == .v2 {
            #expect(after.cpu.usage.perCPU.isEmpty, "v2 has no per-CPU usage")
        } else {
            #expect(after.cpu.usage.perCPU.count == ProcessInfo.processInfo.activeProcessorCount)
            #expect(after.cpu.usage.perCPU.reduce(0, +) >= after.cpu.usage.total / 2)
        }
        let ticks = try sample(of: handle) { $0.cpu.usage.user + $0.cpu.usage.system > 0 }
        #expect(ticks.cpu.usage.user + ticks.cpu.usage.system > 0, "cpuacct.stat (v1, 10 ms ticks) or cpu.stat user/system_usec (v2)")
        #expect(after.pids.current == 1)
        // Pressure: from the cgroup2 mount on hybrid and v2 hosts (a v1-only host has none).
        #expect((after.cpuPressure != nil) == (layout.mountPoints[.unified] != nil && FileManager.default.fileExists(atPath: "/proc/pressure/cpu")))
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
        // Peak: memory.max_usage_in_bytes (v1), memory.peak (v2, kernel 5.19+).
        let peakFile = try cg.directory(.memory) + "/memory.peak"
        let hasPeak = layout.mode != .v2 || FileManager.default.fileExists(atPath: peakFile)
        #expect(grown.memory.maxUsage >= grown.memory.usage || !hasPeak)
        #expect(hasPeak || grown.memory.maxUsage == 0)
        // memory.stat keys as the kernel names them: total_rss on v1, anon (= rss) on v2.
        let rssKey = layout.mode == .v2 ? "anon" : "total_rss"
        let rssStat = try #require(withStat.memoryStat.first { $0.key == rssKey }?.value, "\(rssKey) in memory.stat")
        #expect(rssStat > baseline.memory.rss + 50_000_000)
    }

    @Test(.enabled(if: HostCgroups.isV2)) func v2KernelMemoryIsTheStatKernelKey() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.run("sleep 60 & sleep 60 & wait")
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        let s = try sample(of: handle) { $0.pids.current == 3 }
        let statText = try String(contentsOfFile: try cg.directory(.memory) + "/memory.stat", encoding: .utf8)
        let kernelLine = statText.split(separator: "\n").first { $0.hasPrefix("kernel ") }
        if let kernelLine, let kernel = UInt64(kernelLine.dropFirst("kernel ".count)) {
            // Stacks and page tables of three processes: the same order as a read a moment later.
            #expect(s.memory.kernelUsage > 0 && s.memory.kernelUsage <= s.memory.usage)
            #expect(kernel > 0)
        } else {
            #expect(s.memory.kernelUsage == 0, "a kernel before 5.18 has no kernel key")
        }
    }

    @Test func pidsCurrentMatchesTheProcesses() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.limitPids(50)
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        try cg.run("sleep 60 & sleep 60 & sleep 60 & wait")
        let s = try sample(of: handle) { $0.pids.current == 4 }
        #expect(s.pids.current == 4, "the shell and three sleeps")
        #expect(s.pids.current == UInt64(cg.pids().count))
        #expect(s.pids.max == 50)
    }

    @Test(.enabled(if: HostCgroups.hasV1Controllers)) func v1SpecReadsTheLimits() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.set(.cpu, "cpu.shares", "256")
        try cg.limitCPU(quotaMicroseconds: 20000)
        try cg.limitMemory(bytes: 134_217_728)
        let spec = try CgroupHandle(hierarchy: hierarchy, name: cg.name).spec(using: scratch)
        #expect(spec.errors.isEmpty, "\(spec.errors)")
        #expect(spec.cpuShares == 256 && spec.cpuQuota == 20000 && spec.cpuPeriod == 100_000)
        #expect(spec.memoryLimit == 134_217_728)
        #expect(!spec.cpuMask.isEmpty)
    }

    /// cAdvisor's v2 rules (spec/cgroup-v2.md §3): shares from cpu.weight by 2 + ((W−1)·262142)/9999,
    /// quota/period from cpu.max ("max" → 0), limit from memory.max, reservation from memory.min,
    /// mask from cpuset.cpus.effective, pids.max.
    @Test(.enabled(if: HostCgroups.isV2)) func v2SpecReadsTheLimits() throws {
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        let handle = try CgroupHandle(hierarchy: hierarchy, name: cg.name)
        let defaults = try handle.spec(using: scratch)
        #expect(defaults.errors.isEmpty, "\(defaults.errors)")
        #expect(defaults.cpuShares == 2597, "weight 100 (the default)")
        #expect(defaults.cpuQuota == 0 && defaults.cpuPeriod == 100_000, "cpu.max \"max 100000\"")
        #expect(defaults.memoryLimit == UInt64.max, "memory.max \"max\"")
        try cg.set(.cpu, "cpu.weight", "39")
        try cg.limitCPU(quotaMicroseconds: 20000, periodMicroseconds: 50000)
        try cg.limitMemory(bytes: 134_217_728)
        try cg.set(.memory, "memory.min", "16777216")
        try cg.limitPids(77)
        let spec = try handle.spec(using: scratch)
        #expect(spec.errors.isEmpty, "\(spec.errors)")
        #expect(spec.cpuShares == 2 + (38 * 262_142) / 9999, "weight 39 → 998")
        #expect(spec.cpuQuota == 20000 && spec.cpuPeriod == 50000)
        #expect(spec.memoryLimit == 134_217_728 && spec.memoryReservation == 16_777_216)
        #expect(spec.pidsMax == 77)
        let effective = try String(contentsOfFile: try cg.directory(.cpuset) + "/cpuset.cpus.effective", encoding: .utf8)
        #expect(spec.cpuMask == effective.trimmingCharacters(in: .whitespacesAndNewlines))
        // hugetlb (enabled by the test parent where the root offers it): the files' own figures;
        // has_hugetlb follows the files (cAdvisor: always false on v2, a documented difference).
        let hugetlbFile = try cg.directory(.hugetlb) + "/hugetlb.2MB.current"
        let hasHugetlb = FileManager.default.fileExists(atPath: hugetlbFile)
        #expect(spec.hasHugetlb == hasHugetlb)
        if hasHugetlb {
            let s = try handle.sample(using: scratch)
            let current = try String(contentsOfFile: hugetlbFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(s.hugetlb.first { $0.pageSize == "2Mi" }?.usage == UInt64(current), "hugetlb.2MB.current")
        }
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

    @Test(.enabled(if: HostCgroups.hasV1Controllers)) func v1HierarchiesCreatedAfterOpenAreAdopted() throws {
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
