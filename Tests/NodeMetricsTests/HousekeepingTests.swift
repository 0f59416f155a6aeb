import Testing
@testable import NodeMetrics

/// The housekeeping queue on a test clock.
@Suite struct HousekeepingTests {
    let s: Int64 = 1_000_000_000

    @Test func dynamicIntervalsDoubleUntilTheMaximumAndReset() {
        var q = HousekeepingQueue(policy: HousekeepingPolicy(interval: .seconds(1), maxInterval: .seconds(8), dynamic: true))
        q.add("/a", due: 0)
        var now: Int64 = 0
        var intervals: [Int64] = []
        for changed in [false, false, false, false, false, true, false] {
            let name = q.popDue(now: now)
            #expect(name == "/a")
            q.completed("/a", at: now, changed: changed)
            intervals.append(q.interval(of: "/a")! / s)
            now = q.nextDue()!
        }
        #expect(intervals == [2, 4, 8, 8, 8, 1, 2])
    }

    @Test func withoutDynamicHousekeepingTheIntervalStays() {
        var q = HousekeepingQueue(policy: HousekeepingPolicy(interval: .seconds(10), maxInterval: .seconds(60), dynamic: false))
        q.add("/a", due: 0)
        _ = q.popDue(now: 0)
        q.completed("/a", at: 0, changed: false)
        #expect(q.nextDue() == 10 * s)
    }

    @Test func oneQueueOrdersManyContainers() {
        var q = HousekeepingQueue(policy: HousekeepingPolicy(interval: .seconds(1)))
        q.add("/b", due: 5)
        q.add("/a", due: 3)
        q.add("/c", due: 5)
        #expect(q.popDue(now: 2) == nil)
        #expect(q.popDue(now: 10) == "/a")
        #expect(q.popDue(now: 10) == "/b")
        q.remove("/c")
        #expect(q.popDue(now: 10) == nil, "a removed container is never due")
        #expect(q.count == 2)
        q.completed("/c", at: 10, changed: true) // removed: ignored
        #expect(!q.contains("/c"))
    }
}

/// Ring limits, the store and the summary.
@Suite struct StoreTests {
    @Test func ringBoundedByCountAndAge() {
        var r = SampleRing<Int64>(capacity: 4, maxAge: 10, timestamp: { $0 })
        for t in [1, 2, 3, 4, 5, 6] as [Int64] { r.append(t) }
        #expect(r.elements() == [3, 4, 5, 6])
        r.append(20)
        #expect(r.elements() == [20], "older than 10 before the newest")
        r.append(25)
        #expect(r.elements(limit: 1) == [25])
        #expect(r.elements(start: 21) == [25])
        #expect(r.elements(end: 21) == [20])
    }

    @Test func storeSnapshotsAndRemoval() {
        let store = ContainerStore(limits: ContainerStore.Limits(maxAge: .seconds(120), maxCount: 3))
        store.add("/a", spec: CgroupSpec(), creationTimeNanos: 7)
        for t in 1...5 {
            var s = ContainerSample()
            s.timestampNanos = Int64(t) * 1_000_000_000
            s.memoryStat = [(key: "x", value: 1)]
            store.append("/a", sample: s)
        }
        let snap = store.snapshot("/a")
        #expect(snap?.samples.map(\.timestampNanos) == [3, 4, 5].map { Int64($0) * 1_000_000_000 })
        #expect(snap?.samples.allSatisfy { $0.memoryStat.isEmpty } == true, "the key list is not stored")
        #expect(store.snapshot("/a", count: 1)?.samples.count == 1)
        #expect(snap?.creationTimeNanos == 7)
        store.remove("/a")
        #expect(store.snapshot("/a") == nil && store.names.isEmpty)
    }

    @Test func appendTellsWhetherStatsChanged() {
        let store = ContainerStore()
        store.add("/a", spec: CgroupSpec(), creationTimeNanos: 0)
        var s = ContainerSample()
        s.timestampNanos = 1
        #expect(store.append("/a", sample: s), "the first sample is a change")
        s.timestampNanos = 2
        #expect(!store.append("/a", sample: s), "only the timestamp moved")
        s.timestampNanos = 3
        s.memory.usage = 5
        #expect(store.append("/a", sample: s))
        s.timestampNanos = 4
        s.network = [NetInterfaceStats(name: "eth0", rxBytes: 1, rxPackets: 0, rxErrors: 0, rxDropped: 0,
                                       txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0)]
        #expect(store.append("/a", sample: s), "a change in an out-of-line part counts")
        #expect(store.append("/unknown", sample: s))
    }

    @Test func percentilesAsCAdvisorComputesThem() {
        typealias R = SummaryBuilder.Resource
        #expect(R.percentile([], 0.5) == 0)
        #expect(R.percentile([10], 0.9) == 10)
        // n = 0.5 * 11 = 5.5 -> s[4] + 0.5 * (s[5] - s[4]) = 50 + 5
        let ten: [UInt64] = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
        #expect(R.percentile(ten, 0.5) == 55)
        // n = 0.9 * 11 = 9.9 -> s[8] + 0.9 * (s[9] - s[8]) = 90 + 9
        #expect(R.percentile(ten, 0.9) == 99)
        // n = 0.95 * 11 = 10.45 -> index 10 == count: s[9]
        #expect(R.percentile(ten, 0.95) == 100)
    }

    @Test func percentilesOfValuesNearUInt64MaxSaturate() {
        // Found by fuzz-router: a fixture's memory.usage_in_bytes of 2^64-1 is 2^64 as a Double.
        typealias R = SummaryBuilder.Resource
        #expect(R.percentile([.max, .max], 0.5) == .max)
        var r = R()
        r.addSample(.max)
        r.addSample(.max - 1)
        let p = r.percentiles()
        #expect(p.mean == .max && p.max == .max && p.ninety == .max)
        var b = SummaryBuilder()
        for i in 0...61 { b.add(timestamp: Int64(i) * 1_000_000_000, cpuTotal: UInt64(i), workingSet: .max) }
        #expect(b.derived.minuteUsage.memory.mean == .max)
    }

    @Test func minuteHourAndDayUsage() {
        var b = SummaryBuilder()
        let s: Int64 = 1_000_000_000
        // 62 samples one second apart; CPU grows 500 ms per second (500 milli-cores), memory 1..62 MB.
        for i in 0...61 {
            b.add(timestamp: Int64(i) * s, cpuTotal: UInt64(i) * 500_000_000, workingSet: UInt64(i + 1) << 20)
        }
        let d = b.derived
        #expect(d.latestCPU == 500)
        #expect(d.latestMemory == 62 << 20)
        #expect(d.minuteUsage.percentComplete == 100)
        #expect(d.minuteUsage.cpu == { var p = Percentiles(); p.present = true; p.mean = 500; p.max = 500; p.fifty = 500; p.ninety = 500; p.ninetyFive = 500; return p }())
        #expect(d.minuteUsage.memory.max == 62 << 20)
        #expect(d.minuteUsage.memory.mean == UInt64((1...62).reduce(0, +) << 20) / 62)
        #expect(d.hourUsage.percentComplete == 1, "one minute of sixty")
        #expect(d.dayUsage.percentComplete == 0)
        #expect(d.hourUsage.memory.ninety == d.minuteUsage.memory.ninety, "hour = 90th of the minutes' 90ths")
    }
}

@Suite struct GoDurationTests {
    @Test func parsesGoDurations() throws {
        #expect(try GoDuration.parse("1s") == .seconds(1))
        #expect(try GoDuration.parse("500ms") == .milliseconds(500))
        #expect(try GoDuration.parse("1h30m") == .seconds(5400))
        #expect(try GoDuration.parse("1.5m") == .seconds(90))
        #expect(try GoDuration.parse("2us") == .microseconds(2))
        #expect(try GoDuration.parse("-1s") == .seconds(-1))
        #expect(try GoDuration.parse("0") == .zero)
        for bad in ["", "1", "s", "1x", ".s", "abc", "1s2"] {
            #expect(throws: GoDuration.ParseError(text: bad)) { try GoDuration.parse(bad) }
        }
    }
}

/// The history's memory budget rests on a small sample: counters inline, the rest in one shared box.
@Suite struct SampleSizeTests {
    @Test func aSampleStaysSmall() {
        #expect(MemoryLayout<ContainerSample>.stride <= 280, "\(MemoryLayout<ContainerSample>.stride) bytes")
    }
}

@Suite struct SampleSharingTests {
    @Test func unchangedPartsShareStorage() {
        var a = ContainerSample()
        var p = PressureStats()
        p.some.total = 5
        a.cpuPressure = p
        a.cpu.usage.perCPU = [1, 2]
        a.diskIO = { var d = DiskIOSample(); d.ioServiceBytes = [DiskDeviceStats(major: 8, minor: 0, stats: ["Read": 1])]; return d }()
        var b = a
        b.cpuPressure = p          // equal value, new box
        b.cpu.usage.perCPU = [1, 2] // equal value, new buffer
        b.memory.usage = 7          // a change elsewhere
        #expect(!b.partsStorage.sharesStorage(with: a.partsStorage))
        b.shareStorage(with: a)
        #expect(b.partsStorage.sharesStorage(with: a.partsStorage))
        #expect(b.partsStorage.sharesStorage(with: a.partsStorage))
        #expect(b.cpu.usage.perCPU.withUnsafeBufferPointer { $0.baseAddress } == a.cpu.usage.perCPU.withUnsafeBufferPointer { $0.baseAddress })
        #expect(b.memory.usage == 7 && b.cpuPressure?.some.total == 5)
        var c = b
        c.cpuPressure = nil
        c.shareStorage(with: b)
        #expect(c.cpuPressure == nil, "a changed part is kept")
    }
}
