import Foundation
import Testing
@testable import NodeMetrics

/// Samples and specs read from fixture trees of cgroup v1 (captured from this kernel), v2 (written to
/// Documentation/admin-guide/cgroup-v2.rst) and hybrid hosts, compared with the files' own values.
@Suite struct CgroupFixtureTests {
    let scratch = SampleScratch()

    @Test func v1ContainerSample() throws {
        let handle = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/abc")
        let s = try handle.sample(using: scratch, includeMemoryStat: true)
        let dir = "docker/abc"
        #expect(s.errors.isEmpty, "\(s.errors)")
        #expect(s.cpu.usage.total == (try Fixtures.number("v1/cpuacct/\(dir)/cpuacct.usage")))
        let perCPU = try Fixtures.text("v1/cpuacct/\(dir)/cpuacct.usage_percpu").split(separator: " ")
            .compactMap { UInt64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(s.cpu.usage.perCPU == perCPU)
        // cpuacct.stat is in USER_HZ ticks (100 per second): 10 ms each.
        #expect(s.cpu.usage.user == (try Fixtures.keyed("v1/cpuacct/\(dir)/cpuacct.stat", "user")) * 10_000_000)
        #expect(s.cpu.usage.system == (try Fixtures.keyed("v1/cpuacct/\(dir)/cpuacct.stat", "system")) * 10_000_000)
        #expect(s.cpu.cfs.periods == (try Fixtures.keyed("v1/cpu/\(dir)/cpu.stat", "nr_periods")))
        #expect(s.cpu.cfs.throttledTime == (try Fixtures.keyed("v1/cpu/\(dir)/cpu.stat", "throttled_time")))
        #expect(s.cpu.cfs.burstsPeriods == 0, "cAdvisor does not read bursts on v1")
        #expect(s.cpuPressure == nil, "pure v1 has no pressure files")

        let memStat = "v1/memory/\(dir)/memory.stat"
        let usage = try Fixtures.number("v1/memory/\(dir)/memory.usage_in_bytes")
        let inactive = try Fixtures.keyed(memStat, "total_inactive_file")
        #expect(s.memory.usage == usage)
        #expect(s.memory.workingSet == (usage > inactive ? usage - inactive : 0))
        #expect(s.memory.cache == (try Fixtures.keyed(memStat, "total_cache")))
        #expect(s.memory.rss == (try Fixtures.keyed(memStat, "total_rss")))
        #expect(s.memory.mappedFile == (try Fixtures.keyed(memStat, "total_mapped_file")))
        #expect(s.memory.swap == (try Fixtures.keyed(memStat, "total_swap")))
        #expect(s.memory.maxUsage == (try Fixtures.number("v1/memory/\(dir)/memory.max_usage_in_bytes")))
        #expect(s.memory.kernelUsage == (try Fixtures.number("v1/memory/\(dir)/memory.kmem.usage_in_bytes")))
        #expect(s.memory.memswUsage == (try Fixtures.number("v1/memory/\(dir)/memory.memsw.usage_in_bytes")))
        #expect(s.memory.pgfault == (try Fixtures.keyed(memStat, "pgfault")))
        #expect(s.memory.hierarchicalPgfault == (try Fixtures.keyed(memStat, "total_pgfault")))
        let statLines = try Fixtures.text(memStat).split(separator: "\n").count
        #expect(s.memoryStat.count == statLines, "every key of memory.stat is kept")
        #expect(s.memoryStat.first?.key == "cache")

        #expect(s.diskIO.ioServiceBytes == [DiskDeviceStats(major: 253, minor: 0, stats: [
            "Read": 4096, "Write": 20_971_520, "Sync": 20_971_520, "Async": 4096, "Discard": 0, "Total": 20_975_616])])
        #expect(s.diskIO.ioServiced.first?.stats["Total"] == 161)
        #expect(s.pids.current == (try Fixtures.number("v1/pids/\(dir)/pids.current")))
        #expect(s.pids.max == 100)
        #expect(s.timestampNanos > 1_700_000_000_000_000_000)
    }

    @Test func v1Spec() throws {
        let handle = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/abc")
        let spec = try handle.spec(using: scratch)
        #expect(spec.errors.isEmpty, "\(spec.errors)")
        #expect(spec.hasCPU && spec.hasMemory && spec.hasCPUSet && spec.hasPids && spec.hasDiskIO && !spec.hasHugetlb)
        #expect(spec.cpuShares == 512)
        #expect(spec.cpuQuota == 50000)
        #expect(spec.cpuPeriod == 100_000)
        #expect(spec.cpuMask == (try Fixtures.text("v1/cpuset/docker/abc/cpuset.cpus").trimmingCharacters(in: .newlines)))
        #expect(spec.memoryLimit == 268_435_456)
        #expect(spec.memoryReservation == 9_223_372_036_854_771_712, "v1 'unlimited' is the kernel's page-aligned maximum")
        #expect(spec.pidsMax == 100)
    }

    @Test func v1RootUsesTheRootFiles() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/").sample(using: scratch, includeMemoryStat: true)
        #expect(s.cpu.usage.total == (try Fixtures.number("v1/cpuacct/cpuacct.usage")))
        #expect(s.memoryStat.contains { $0.key == "total_inactive_file" })
        #expect(s.errors.isEmpty, "\(s.errors)")
    }

    @Test func v1MalformedFilesAreErrorsForThatFileOnly() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/bad").sample(using: scratch)
        let failed = Dictionary(s.errors.map { ($0.file, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(failed["cpuacct.usage"] == "number out of range")
        #expect(failed["cpuacct.usage_percpu"] == nil, "an empty per-cpu list is an empty list")
        #expect(failed["cpu.stat"] == "malformed content")
        #expect(failed["memory.stat"] == "malformed content", "truncated last line")
        #expect(failed["pids.current"] == "malformed content", "empty file")
        #expect(failed["blkio.throttle.io_service_bytes"] == "malformed content", "the fallback file when _recursive is absent")
        #expect(failed.count == 5, "\(failed)")
        // What could be read is still there.
        #expect(s.memory.usage == UInt64.max)
        #expect(s.memory.workingSet == UInt64.max, "without a valid memory.stat the working set is the usage")
        #expect(s.cpu.usage.user == 5 * 10_000_000, "a missing key is zero, not an error")
        #expect(s.pids.max == 0, "max means unlimited")
        #expect(s.diskIO.ioServiced.first?.stats == ["Read": 1, "Write": 2])
    }

    @Test func v1WithoutHierarchyUsesTheFlatKeys() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/flat").sample(using: scratch)
        #expect(s.memory.cache == 100 && s.memory.rss == 200 && s.memory.mappedFile == 50)
        #expect(s.memory.workingSet == 4096, "no total_inactive_file: working set = usage")
        #expect(s.memory.pgfault == 7 && s.memory.hierarchicalPgfault == 70)
    }

    @Test func unknownAndInvalidNames() throws {
        let h = try Fixtures.v1Hierarchy()
        #expect(throws: CgroupError.notFound(name: "/nope")) { try CgroupHandle(hierarchy: h, name: "/nope") }
        #expect(throws: CgroupError.invalidName(name: "/docker/../..")) { try CgroupHandle(hierarchy: h, name: "/docker/../..") }
        #expect(throws: CgroupError.invalidName(name: "docker")) { try CgroupHandle(hierarchy: h, name: "docker") }
        #expect(throws: CgroupError.notFound(name: "/docker/abc/memory.stat")) {
            try CgroupHandle(hierarchy: h, name: "/docker/abc/memory.stat")
        }
        #expect(try CgroupHandle(hierarchy: h, name: "//docker/./abc/").sample(using: scratch).errors.isEmpty)
    }

    @Test func hybridReadsPressureFromTheUnifiedMount() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(unified: "hybrid-unified"), name: "/docker/abc")
            .sample(using: scratch)
        #expect(s.cpuPressure?.some.total == 4242)
        #expect(s.cpuPressure?.some.avg10 == 0.5)
        #expect(s.memoryPressure?.full.total == 42)
        #expect(s.diskIO.pressure?.some.avg300 == 0.1)
        #expect(s.cpu.usage.total == (try Fixtures.number("v1/cpuacct/docker/abc/cpuacct.usage")), "CPU still from v1")
        // A directory only in the controller-less cgroup2 mount is not a container on a hybrid host.
        #expect(throws: CgroupError.notFound(name: "/kubepods")) {
            try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(unified: "v2"), name: "/kubepods")
        }
    }

    @Test func v2ContainerSample() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/kubepods/burstable/pod1234/abc")
            .sample(using: scratch)
        #expect(s.errors.isEmpty, "\(s.errors)")
        #expect(s.cpu.usage.total == 2_500_000_000)
        #expect(s.cpu.usage.user == 1_500_000_000 && s.cpu.usage.system == 1_000_000_000)
        #expect(s.cpu.usage.perCPU.isEmpty, "v2 has no per-cpu usage")
        #expect(s.cpu.cfs.periods == 100 && s.cpu.cfs.throttledPeriods == 10 && s.cpu.cfs.throttledTime == 500_000_000)
        #expect(s.cpu.cfs.burstsPeriods == 2 && s.cpu.cfs.burstTime == 3_000_000)
        #expect(s.memory.usage == 104_857_600)
        #expect(s.memory.maxUsage == 209_715_200)
        #expect(s.memory.workingSet == 104_857_600 - 20_971_520)
        #expect(s.memory.cache == 41_943_040 && s.memory.rss == 52_428_800 && s.memory.mappedFile == 8_388_608)
        #expect(s.memory.kernelUsage == 4_194_304, "memory.stat kernel (cAdvisor: 0 on v2; documented difference)")
        #expect(s.memory.swap == 1_048_576)
        #expect(s.memory.fileDirty == 4096 && s.memory.fileWriteback == 8192)
        #expect(s.memory.pgscan == 100 && s.memory.pgsteal == 90)
        #expect(s.memory.workingsetRefaultAnon == 1 && s.memory.workingsetRefaultFile == 2)
        #expect(s.memory.pgfault == 12345 && s.memory.hierarchicalPgfault == 12345 && s.memory.pgmajfault == 12)
        #expect(s.memoryEvents == { var e = MemoryEvents(); e.high = 3; e.max = 2; e.oom = 1; e.oomKill = 1; return e }())
        #expect(s.memoryPressure?.some.avg10 == 12.5 && s.memoryPressure?.full.total == 500_000)
        #expect(s.diskIO.ioServiceBytes == [
            DiskDeviceStats(major: 8, minor: 0, stats: ["Read": 1_048_576, "Write": 2_097_152]),
            DiskDeviceStats(major: 253, minor: 0, stats: ["Read": 4096, "Write": 0]),
        ])
        #expect(s.diskIO.ioServiced.first?.stats == ["Read": 256, "Write": 512])
        #expect(s.diskIO.ioCostUsage == [DiskDeviceStats(major: 253, minor: 0, stats: ["Count": 10])])
        #expect(s.diskIO.ioCostWait.first?.stats == ["Count": 20])
        #expect(s.pids.current == 7 && s.pids.max == 0)
        #expect(s.hugetlb.map(\.pageSize) == ["2Mi", "1Gi"])
        #expect(s.hugetlb.first?.usage == 4_194_304 && s.hugetlb.first?.failcnt == 3)
    }

    @Test func v2Spec() throws {
        let spec = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/kubepods/burstable/pod1234/abc")
            .spec(using: scratch)
        #expect(spec.errors.isEmpty, "\(spec.errors)")
        #expect(spec.cpuShares == 2597, "cpu.weight 100 -> 2 + 99*262142/9999")
        #expect(spec.cpuQuota == 50000 && spec.cpuPeriod == 100_000)
        #expect(spec.cpuMask == "0-1" && spec.memoryNodes == "0")
        #expect(spec.memoryLimit == 268_435_456)
        #expect(spec.memoryHigh == UInt64.max && spec.memorySwapLimit == UInt64.max)
        #expect(spec.hasMemory && spec.hasCPU && spec.hasHugetlb && spec.hasDiskIO && spec.hasPids)
    }

    @Test func v2RootEmulatesMemoryUsage() throws {
        let s = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/").sample(using: scratch)
        #expect(s.errors.isEmpty, "\(s.errors)")
        #expect(s.memory.usage == 300_000_000 + 700_000_000, "root: anon + file of memory.stat")
        #expect(s.memory.workingSet == 1_000_000_000 - 400_000_000)
        #expect(s.cpu.usage.total == 90_000_000_000)
        #expect(s.cpuPressure?.some.avg10 == 1.04 && s.cpuPressure?.full.total == 0)
    }

    @Test func v2MalformedFiles() throws {
        let h = try Fixtures.v2Hierarchy()
        let handle = try CgroupHandle(hierarchy: h, name: "/bad")
        let s = try handle.sample(using: scratch)
        let failed = Dictionary(s.errors.map { ($0.file, $0.reason) }, uniquingKeysWith: { a, _ in a })
        #expect(failed == ["cpu.stat": "number out of range", "memory.current": "malformed content",
                           "io.stat": "malformed content", "cpu.pressure": "malformed content"])
        #expect(s.cpuPressure == nil)
        #expect(s.memory.cache == 2 && s.memory.rss == 1)
        let spec = try handle.spec(using: scratch)
        #expect(spec.cpuQuota == 0 && spec.cpuPeriod == 100_000, "cpu.max 'max 100000'")
        #expect(spec.cpuShares == 262_144)
    }
}

/// Handles keep descriptors only while the budget has room, and give them back when released.
@Suite struct DescriptorBudgetTests {
    @Test func handlesPastTheBudgetReadByPath() throws {
        let hierarchy = try Fixtures.v1Hierarchy()
        let budget = DescriptorBudget(total: DescriptorBudget.perCgroupMaximum + 10)
        var first: CgroupHandle? = try CgroupHandle(hierarchy: hierarchy, name: "/docker/abc", budget: budget)
        let kept = try #require(first).openDescriptors
        #expect(try #require(first).keepsDescriptors && kept >= 14)
        #expect(budget.available == budget.total - kept)
        let second = try CgroupHandle(hierarchy: hierarchy, name: "/docker/abc", budget: budget)
        #expect(!second.keepsDescriptors && second.openDescriptors == 0)
        let scratch = SampleScratch()
        #expect(try second.sample(using: scratch).memory == (try #require(first).sample(using: scratch).memory))
        first = nil
        #expect(budget.available == budget.total)
        #expect(throws: CgroupError.notFound(name: "/nope")) { try CgroupHandle(hierarchy: hierarchy, name: "/nope", budget: budget) }
        #expect(budget.available == budget.total)
        #expect(DescriptorBudget.fromProcessLimit().total > 1000)
    }
}

@Suite struct SampleFilePathTests {
    @Test func pathsOfTheFilesASampleReads() throws {
        let handle = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(unified: "hybrid-unified"), name: "/docker/abc")
        let paths = handle.sampleFilePaths
        #expect(paths.contains(Fixtures.path("v1/memory/docker/abc/memory.stat")))
        #expect(paths.contains(Fixtures.path("v1/blkio/docker/abc/blkio.throttle.io_service_bytes_recursive")))
        #expect(paths.contains(Fixtures.path("hybrid-unified/docker/abc/cpu.pressure")))
        #expect(paths.count == handle.openDescriptors)
        #expect(paths.allSatisfy { FileManager.default.fileExists(atPath: $0) })
    }
}
