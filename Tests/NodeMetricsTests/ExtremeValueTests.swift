import Foundation
import Testing
@testable import NodeMetrics

/// Values at the edges of what the kernel, /proc, a runtime socket or a request can hand the agent:
/// u64 maxima (`18446744073709551615`, cgroup v2 `max`), v1's "unlimited" (9223372036854771712),
/// counters that go backwards (a cgroup recreated under the same name) or jump, timestamps at the
/// ends of Int64. None of them may trap; each test feeds the real code one such value. The fixture
/// cgroups `/extreme` (v2) and `/docker/extreme` (v1) hold u64 maxima in every counter and go through
/// the C core like any other fixture.
@Suite struct ExtremeValueTests {
    let scratch = SampleScratch()
    static let max = UInt64.max

    func extremeV2() throws -> ContainerSample { try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/extreme").sample(using: scratch) }
    func extremeV1() throws -> ContainerSample { try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/extreme").sample(using: scratch) }
    func ordinaryV2() throws -> ContainerSample {
        try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/kubepods/burstable/pod1234/abc").sample(using: scratch)
    }

    func stamped(_ s: ContainerSample, _ t: Int64) -> ContainerSample {
        var s = s
        s.timestampNanos = t
        return s
    }

    func snapshot(_ name: String = "/extreme", _ samples: [ContainerSample], spec: CgroupSpec) -> ContainerSnapshot {
        ContainerSnapshot(name: name, spec: spec, creationTimeNanos: 1_795_000_000_000_000_000, samples: samples,
                          derived: DerivedStats(), oomEvents: UInt64.max, metadata: ContainerMetadata())
    }

    static let t0: Int64 = 1_795_000_000_000_000_000

    // MARK: the C core's view of the extreme fixtures

    @Test func fixtureMaximaReachTheSampleUnchanged() throws {
        let v2 = try extremeV2()
        #expect(v2.errors.isEmpty, "\(v2.errors)")
        #expect(v2.memory.usage == Self.max && v2.memory.workingSet == Self.max && v2.memory.swap == Self.max)
        #expect(v2.cpu.usage.total == 18_446_744_073_709_551_000, "usage_usec · 1000, the largest that fits")
        #expect(v2.cpu.cfs.periods == Self.max && v2.memoryEvents.oomKill == Self.max && v2.pids.current == Self.max)
        #expect(v2.diskIO.ioServiceBytes.first?["Read"] == Self.max)
        #expect(v2.cpuPressure?.some.total == Self.max)
        let spec = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/extreme").spec(using: scratch)
        #expect(spec.memoryLimit == Self.max && spec.memorySwapLimit == Self.max, "v2 'max'")

        let v1 = try extremeV1()
        #expect(v1.cpu.usage.total == Self.max && v1.cpu.usage.perCPU == [Self.max, Self.max, Self.max, Self.max])
        #expect(v1.memory.usage == Self.max && v1.memory.hierarchicalPgfault == Self.max)
        let v1Spec = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/extreme").spec(using: scratch)
        #expect(v1Spec.memoryLimit == 9_223_372_036_854_771_712, "v1 'unlimited'")
    }

    // MARK: Store: derived stats

    /// The working set at u64 max for a minute: the minute's mean is 2^64 as a Double.
    @Test func derivedStatsOfMaximalWorkingSets() throws {
        var b = SummaryBuilder()
        for i in 0...61 { b.add(timestamp: Int64(i) * 1_000_000_000, cpuTotal: 0, workingSet: Self.max) }
        #expect(b.derived.minuteUsage.memory.mean == Self.max && b.derived.minuteUsage.memory.max == Self.max)
        #expect(b.derived.minuteUsage.memory.ninety == Self.max)
        #expect(b.derived.hourUsage.memory.mean == Self.max)
    }

    /// A CPU counter from 0 to near 2^64 in one second: 1.8e13 milli-cores, computed in full width.
    @Test func derivedCPURateOfAJumpIsExact() throws {
        var b = SummaryBuilder()
        b.add(timestamp: 0, cpuTotal: 0, workingSet: 1)
        b.add(timestamp: 1_000_000_000, cpuTotal: 18_446_744_073_709_551_000, workingSet: 1)
        #expect(b.derived.latestCPU == 18_446_744_073_709, "delta · 1000 / 1e9 without dropping the high word")
    }

    /// A recreated cgroup: the counter goes back; the ordinary cgroup's samples around the extreme one.
    @Test func derivedStatsThroughTheStoreWithCountersGoingBack() throws {
        let store = ContainerStore()
        store.add("/c", spec: CgroupSpec(), creationTimeNanos: 0)
        let ordinary = try ordinaryV2(), extreme = try extremeV2()
        for i in 0...62 { store.append("/c", sample: stamped(i % 2 == 0 ? ordinary : extreme, Self.t0 + Int64(i) * 1_000_000_000)) }
        let d = try #require(store.snapshot("/c")).derived
        #expect(d.minuteUsage.memory.max == Self.max && d.minuteUsage.percentComplete == 100)
        #expect(d.latestMemory == ordinary.memory.workingSet)
    }

    /// Timestamps at the ends of Int64 (a clock stepped far, a sample written by hand).
    @Test func derivedStatsWithTimestampsAtTheEnds() throws {
        var b = SummaryBuilder()
        b.add(timestamp: Int64.min + 1, cpuTotal: 0, workingSet: 1)
        b.add(timestamp: Int64.max, cpuTotal: Self.max, workingSet: 2)
        #expect(b.derived.latestMemory == 2)
        #expect(b.derived.minuteUsage.percentComplete == 100)
        b.add(timestamp: Int64.min, cpuTotal: 0, workingSet: 3) // back in time
        #expect(b.derived.latestMemory == 3)
    }

    @Test func ringAndStoreWithTimestampsAtTheEnds() throws {
        var ring = SampleRing<Int64>(capacity: 4, maxAge: 10, timestamp: { $0 })
        ring.append(Int64.min)
        ring.append(Int64.max)
        #expect(ring.elements() == [Int64.max], "the older one is out of any max age")
        #expect(ring.elements(end: Int64.max) == [Int64.max] && ring.elements(end: 0).isEmpty)
        #expect(ring.elements(limit: -1).isEmpty, "a request's negative count")
    }

    // MARK: API: v2 stats

    /// cpu_inst when total jumps from 2.5 s to near 2^64 ns within a millisecond: 1.8e22 nanocores do
    /// not fit in 64 bits, so cpu_inst is left out rather than trapping in the division.
    @Test func cpuInstOfAJumpThatDoesNotFit() throws {
        let a = stamped(try ordinaryV2(), Self.t0), b = stamped(try extremeV2(), Self.t0 + 1_000_000)
        #expect(CAdvisorV2Stats.rate(0, Self.max, 1) == nil)
        #expect(CAdvisorV2Stats.rate(0, Self.max, 1_000_000_000) == Self.max, "exactly u64 max per second")
        #expect(CAdvisorV2Stats.rate(Self.max, 0, 1_000_000_000) == nil, "a counter going back has no rate")
        var w = JSONWriter()
        w.beginObject()
        CAdvisorV2Stats.writeCPUInst(a, b, &w)
        w.endObject()
        #expect(w.string == "{}")
        let spec = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/extreme").spec(using: scratch)
        var info = JSONWriter()
        CAdvisorV2Stats.writeInfo(snapshot("/extreme", [a, b, a], spec: spec), deviceName: { _, _ in "sda" }, &info)
        #expect(try JSONSerialization.jsonObject(with: Data(info.bytes)) is [String: Any])
        var deprecated = JSONWriter()
        CAdvisorV2Stats.writeDeprecated(snapshot("/extreme", [a, b, a], spec: spec), deviceName: { _, _ in "" }, &deprecated)
        #expect(try JSONSerialization.jsonObject(with: Data(deprecated.bytes)) is [Any])
    }

    /// Consecutive sample timestamps Int64.min and Int64.max: their difference does not fit.
    @Test func cpuInstWithTimestampsAtTheEnds() throws {
        let a = stamped(try ordinaryV2(), Int64.min), b = stamped(try ordinaryV2(), Int64.max)
        var w = JSONWriter()
        w.beginObject()
        CAdvisorV2Stats.writeCPUInst(a, b, &w)
        w.endObject()
        #expect(w.string == #"{"cpu_inst":{"usage":{"total":0,"user":0,"system":0}}}"#)
    }

    @Test func machineStatsWithMaximalDiskCounters() throws {
        var s = stamped(try extremeV1(), Self.t0)
        var fs = FilesystemStats(device: "/dev/sda", type: "ext4")
        fs.io = Array(repeating: Self.max, count: 11)
        s.filesystems = [fs]
        var w = JSONWriter()
        CAdvisorV2Stats.writeMachineStats(snapshot("/", [s], spec: CgroupSpec()), &w)
        #expect(w.string.contains(#""read_duration":18446744073709551615"#), "ms → ns saturates")
    }

    // MARK: Kubelet

    func kubeletStore() throws -> ContainerStore {
        let store = ContainerStore()
        let spec = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/extreme").spec(using: scratch)
        let names = ["/", "/kubepods/pod1/c1", "/kubepods/pod1/c2"]
        for name in names { store.add(name, spec: spec, creationTimeNanos: Self.t0) }
        for (name, container) in [("/kubepods/pod1/c1", "c"), ("/kubepods/pod1/c2", "d")] {
            var m = ContainerMetadata()
            m.runtime = "containerd"
            m.labels = [ContainerMetadata.podNameLabel: "p", ContainerMetadata.podNamespaceLabel: "ns",
                        ContainerMetadata.podUIDLabel: "1", ContainerMetadata.containerNameLabel: container]
            m.deriveKubernetesIdentity()
            store.updateMetadata(name, m)
        }
        var ordinary = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/abc").sample(using: scratch)
        ordinary.processes = ProcessStats()
        ordinary.processes?.processCount = Self.max
        var extreme = try extremeV1()
        extreme.processes = ordinary.processes
        for name in names {
            store.append(name, sample: stamped(ordinary, Self.t0))
            store.append(name, sample: stamped(extreme, Self.t0 + 1))
        }
        return store
    }

    /// usageNanoCores from the two newest samples, a nanosecond apart, 0 → u64 max: does not fit.
    @Test func usageNanoCoresOfAJump() throws {
        let store = try kubeletStore()
        let root = try #require(store.snapshot("/", count: 2))
        #expect(KubeletView.usageNanoCores(root) == nil)
        let a = stamped(try ordinaryV2(), Int64.min), b = stamped(try ordinaryV2(), Int64.max)
        #expect(KubeletView.usageNanoCores(snapshot("/", [a, b], spec: CgroupSpec())) == 0)
    }

    @Test func kubeletSummaryWithUnlimitedLimitsAndJumps() throws {
        let view = KubeletView(store: try kubeletStore())
        var machine = MachineInfo()
        machine.memoryCapacity = Self.max
        machine.swapCapacity = 9_223_372_036_854_771_712
        var w = JSONWriter()
        KubeletSummary.write(view, node: .init(name: "n", bootTimeNanos: 0, machine: machine, maxPID: Int64.max, threads: Int64.max),
                             onlyCPUAndMemory: false, to: &w)
        #expect(try JSONSerialization.jsonObject(with: Data(w.bytes)) is [String: Any])
        #expect(w.string.contains(#""process_stats":{"process_count":18446744073709551615}"#), "two containers' counts, saturated")
        #expect(!w.string.contains("usageNanoCores"), "0 to u64 max in a nanosecond has no rate that fits")
        let text = String(decoding: ResourceMetrics.text(view), as: UTF8.self)
        #expect(text.contains("node_memory_working_set_bytes 1.8446744073709552e+19"))
    }

    // MARK: Prometheus

    @Test func everyContainerFamilyOfExtremeSamples() throws {
        for (sample, spec) in [(try extremeV1(), try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/extreme").spec(using: scratch)),
                               (try extremeV2(), try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/extreme").spec(using: scratch))] {
            var s = stamped(sample, Int64.max)
            var fs = FilesystemStats(device: "/dev/sda", type: "ext4")
            fs.io = Array(repeating: Self.max, count: 11)
            fs.capacity = Self.max
            s.filesystems = [fs]
            var snap = snapshot("/extreme", [s], spec: spec)
            snap.creationTimeNanos = Int64.min
            let view = ContainerView(snapshot: snap, sample: s, deviceName: { _, _ in "/dev/sda" }, now: 1e300)
            let schema = LabelSchema(names: ["id"])
            var sink = MetricSeriesSink(writer: PrometheusTextWriter())
            sink.subjects([[Array("/extreme".utf8)]], schema: schema)
            for family in ContainerFamily.all {
                sink.begin(family: family.name, help: family.help, type: family.type, extra: family.extraLabels, schema: schema)
                sink.current = 0
                sink.timestampMillis = s.timestampNanos / 1_000_000
                family.values(view, &sink)
            }
            let text = sink.writer.string
            #expect(text.contains(#"container_memory_usage_bytes{id="/extreme"} 1.8446744073709552e+19 9223372036854\#n"#))
            #expect(text.contains(#"container_spec_memory_limit_bytes{id="/extreme"} 0"#), "unlimited is 0, as cAdvisor")
            // The cgroup's devices and the root filesystem's are the same disk here: one series each.
            #expect(!s.diskIO.ioServiced.isEmpty)
            #expect(Exposition.duplicateSeries(text).isEmpty, "\(Exposition.duplicateSeries(text))")
            #expect(text.split(separator: "\n").filter { $0.hasPrefix("container_fs_reads_total{") }.count == 1)
        }
    }

    // MARK: JSON numbers

    /// Go writes floats below 1e21 without an exponent; 1e20 does not fit a UInt64.
    @Test func jsonFloatsBeyondUInt64() {
        var w = JSONWriter()
        w.beginObject()
        w.field("a", 1e20)
        w.field("b", 0x1p64)
        w.field("c", -0x1p64)
        w.field("d", Double(UInt64.max))
        w.endObject()
        #expect(w.string == #"{"a":100000000000000000000,"b":18446744073709551616,"c":-18446744073709551616,"d":18446744073709551616}"#)
    }

    // MARK: Host

    /// /proc/cpuinfo's "cpu MHz" is text: huge, negative or not a number.
    @Test func cpuinfoFrequencies() {
        for (text, khz) in [("1e30", UInt64.max), ("-5", 0), ("nan", 0), ("inf", UInt64.max), ("2400.5", 2_400_500)] as [(String, UInt64)] {
            var m = MachineInfo()
            MachineInfo.readCPUInfo("processor : 0\ncpu MHz : \(text)\n", into: &m)
            #expect(m.cpuFrequencyKHz == khz, "\(text)")
        }
    }

    @Test func cacheSizesAndCPUListsFromSysfs() {
        #expect(MachineInfo.parseSize("18014398509481984K") == UInt64.max, "2^54 KiB is 2^64 bytes")
        #expect(MachineInfo.parseSize("32768K") == 32 << 20)
        #expect(MachineInfo.cpuList("0-3,5") == [0, 1, 2, 3, 5])
        #expect(MachineInfo.cpuList("0-9223372036854775807").count <= 65536, "not an array of 2^63 CPUs")
        #expect(MachineInfo.cpuList("9223372036854775807").isEmpty)
    }

    /// /sys/block/<dev>/size in 512-byte sectors, at u64 max.
    @Test func diskSizeAtTheMaximum() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("sys/block/sda/queue"), withIntermediateDirectories: true)
        try "8:0\n".write(toFile: dir.file("sys/block/sda/dev"), atomically: true, encoding: .utf8)
        try "18446744073709551615\n".write(toFile: dir.file("sys/block/sda/size"), atomically: true, encoding: .utf8)
        let disks = MachineInfo.disks(paths: HostPaths(root: dir.path))
        #expect(disks["8:0"]?.size == UInt64.max)
    }

    /// A process whose /proc/<pid>/stat has u64 maxima and a boot time at u64 max in /proc/stat.
    @Test func processListOfExtremeProcStat() throws {
        let dir = try TemporaryDirectory()
        let proc = dir.file("proc")
        try FileManager.default.createDirectory(atPath: proc + "/42", withIntermediateDirectories: true)
        let stat = try Fixtures.text("proc/stat").split(separator: "\n")
            .map { $0.hasPrefix("btime ") ? "btime 18446744073709551615" : String($0) }.joined(separator: "\n") + "\n"
        try stat.write(toFile: proc + "/stat", atomically: true, encoding: .utf8)
        try Fixtures.text("proc/meminfo").write(toFile: proc + "/meminfo", atomically: true, encoding: .utf8)
        try "18446744073709551615.00 1.00\n".write(toFile: proc + "/uptime", atomically: true, encoding: .utf8)
        let m = "18446744073709551615"
        try "42 (huge) R 1 42 42 0 -1 4194560 \(m) 0 \(m) 0 \(m) \(m) 0 0 20 -5 9223372036854775807 0 \(m) \(m) 9223372036854775807 \(m) 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
            .write(toFile: proc + "/42/stat", atomically: true, encoding: .utf8)
        let procfs = try Procfs(paths: HostPaths(root: dir.path))
        let list = ContainerProcfs(paths: HostPaths(root: dir.path)).processList(container: "/", procfs: procfs)
        let p = try #require(list.first)
        #expect(p.pid == 42 && p.rss == UInt64.max && p.virtualSize == UInt64.max)
        #expect(p.percentCPU.isFinite && p.percentMemory.isFinite)
    }

    @Test func smapsAndUDPTablesAtTheMaximum() {
        #expect(ContainerProcfs.referencedBytes(smaps: "Referenced:  18446744073709551615 kB\nReferenced: 1 kB\n") == UInt64.max)
        let line = "  1: 00000000:0044 00000000:0000 07 FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF 00:00000000 00000000 0 0 1 2 0000000000000000 18446744073709551615"
        let udp = ContainerProcfs.udpStats("header\n" + line + "\n" + line + "\n")
        #expect(udp.txQueued == UInt64.max && udp.rxQueued == UInt64.max && udp.dropped == UInt64.max && udp.listen == 2)
    }

    /// Schedstat counters near u64 max: the container's totals stay at the maximum, they do not wrap.
    @Test func schedstatTotalsSaturate() {
        var acc = SchedstatAccumulator()
        var s = CPUSchedstat()
        s.runTime = UInt64.max
        s.runqueueTime = UInt64.max
        s.runPeriods = UInt64.max
        _ = acc.update([1: s, 2: s])
        let total = acc.update([3: s]) // 1 and 2 exited: retired
        #expect(total.runTime == UInt64.max && total.runPeriods == UInt64.max)
    }

    @Test func hostPathsOfRelativeNames() {
        #expect(HostPaths(root: "/rootfs").path("proc/1") == "/rootfs/proc/1")
        #expect(HostPaths().path("proc") == "/proc")
    }

    // MARK: time arithmetic

    @Test func durationsAtTheEnds() {
        #expect((Duration.seconds(9_223_372_036) + .nanoseconds(999_999_999)).nanoseconds == Int64.max)
        #expect(Duration.seconds(-9_223_372_037).nanoseconds == Int64.min)
        #expect(Duration.seconds(Int64.max).nanoseconds == Int64.max)
        #expect(Duration.milliseconds(-1500).nanoseconds == -1_500_000_000)
    }

    /// `-max_housekeeping_interval` as large as a Duration goes: doubling and scheduling saturate.
    @Test func housekeepingWithTheLargestIntervals() {
        let policy = HousekeepingPolicy(interval: .nanoseconds(Int64.max), maxInterval: .nanoseconds(Int64.max))
        #expect(policy.next(current: Int64.max, changed: false) == Int64.max)
        var q = HousekeepingQueue(policy: policy)
        q.add("/", due: 0)
        #expect(q.popDue(now: 0) == "/")
        q.completed("/", at: Int64.max - 1, changed: false)
        #expect(q.nextDue() == Int64.max)
    }

    @Test func eventsWithTimestampsAtTheEnds() {
        let store = EventStore()
        store.add(ContainerEvent(containerName: "/", timestampNanos: Int64.min, type: .oom))
        store.add(ContainerEvent(containerName: "/", timestampNanos: Int64.max, type: .oom))
        var f = EventFilter()
        f.maxEvents = nil
        #expect(store.query(f).count == 1, "the Int64.min event is older than any retention")
    }

    /// A /dev/kmsg record's microseconds since boot at u64 max.
    @Test func kmsgTimestampAtTheMaximum() throws {
        let record = try #require(KmsgRecord("6,1,18446744073709551615,-;Out of memory"))
        #expect(KmsgReader.wallClock(monotonicMicros: record.monotonicMicros) == Int64.max)
        #expect(KmsgReader.wallClock(monotonicMicros: 0) < Clocks.wallNanos())
    }

    // MARK: runtimes

    /// containerd's answer with a creation time at the end of Int64 and a pid that is no Int32.
    @Test func containerdAnswerAtTheEnds() {
        var c = Containerd_Services_Containers_V1_Container()
        c.id = "abc"
        c.createdAt.seconds = Int64.max
        c.createdAt.nanos = 999_999_999
        let m = ContainerdClient.metadata(c, namespace: "k8s.io", pid: UInt32.max, envWhitelist: [])
        #expect(m.createdNanos == Int64.max)
        #expect(m.pid == 0, "not a pid")
        c.createdAt.seconds = Int64.min
        c.createdAt.nanos = 0
        #expect(ContainerdClient.metadata(c, namespace: "k8s.io", pid: 7, envWhitelist: []).createdNanos == Int64.min)
    }

    static let dockerID = String(repeating: "ab", count: 32)

    /// Docker's inspect answer with a pid beyond Int32, and CRI-O's with a negative one.
    @Test func runtimePidsOutOfRange() throws {
        let dir = try TemporaryDirectory()
        let inspect = #"{"Id":"\#(Self.dockerID)","Name":"/x","State":{"Pid":4294967296}}"#
        let crio = #"{"name":"x","pid":-5}"#
        let server = try RecordedUnixServer(path: dir.file("s.sock"), routes: [
            "/containers/\(Self.dockerID)/json": (200, inspect), "/containers/\(Self.dockerID)": (200, crio)])
        defer { server.stop() }
        let docker = try #require(try DockerClient(socketPath: server.path).metadata(id: Self.dockerID, envWhitelist: []))
        #expect(docker.pid == 0 && docker.aliases == ["x", Self.dockerID])
        let c = try #require(try CRIOClient(socketPath: server.path).metadata(id: Self.dockerID, envWhitelist: []))
        #expect(c.pid == 0)
    }

    /// A runtime answering with a negative Content-Length.
    @Test func negativeContentLength() throws {
        let dir = try TemporaryDirectory()
        let server = try RecordedUnixServer(path: dir.file("s.sock"), routes: [:],
                                            raw: ["/version": "HTTP/1.1 200 OK\r\nContent-Length: -1\r\nConnection: close\r\n\r\n{}"])
        defer { server.stop() }
        #expect(throws: UnixHTTPClient.Failure.self) { try UnixHTTPClient(socketPath: server.path).request("GET", "/version") }
    }

    @Test func negativeChunkSize() {
        var d = ChunkedDecoder()
        #expect(throws: UnixHTTPClient.Failure.self) { try d.feed(Array("-5\r\nab\r\n0\r\n\r\n".utf8)) { _ in } }
    }
}

extension InotifyUsers {
    /// The manager on a copy of the v1 fixture tree whose container directory was touched to the year
    /// 3000: its creation time (the directory's mtime) does not fit in Int64 nanoseconds.
    @Suite struct ExtremeManagerTests {
        @Test func creationTimeBeyondInt64Nanoseconds() throws {
            let dir = try TemporaryDirectory()
            var mounts: [CgroupController: String] = [:]
            for c in [CgroupController.cpu, .cpuacct, .memory, .pids] {
                let copy = dir.file(c.rawValue)
                try FileManager.default.copyItem(atPath: Fixtures.path("v1/\(c.rawValue)"), toPath: copy)
                var times = [timespec(tv_sec: 32_503_680_000, tv_nsec: 0), timespec(tv_sec: 32_503_680_000, tv_nsec: 0)]
                #expect(utimensat(AT_FDCWD, copy + "/docker/abc", &times, 0) == 0)
                mounts[c] = copy
            }
            var c = ManagerConfiguration()
            c.layout = CgroupLayout(mode: .v1, mountPoints: mounts)
            c.kmsgPath = nil
            c.metricKinds = MetricKinds(enabled: [.cpu, .memory])
            c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: true)
            let manager = try ContainerManager(configuration: c)
            manager.start()
            defer { manager.stop() }
            let snap = eventually(10) { manager.store.snapshot("/docker/abc").flatMap { $0.samples.isEmpty ? nil : $0 } }
            #expect(snap?.creationTimeNanos == Int64.max)
        }
    }
}

/// Machine families on a topology that makes cAdvisor repeat a label set: two sockets in one NUMA
/// node, core ids 0 and 1 in each, an L3 per socket (fixture `sys-two-sockets`).
@Suite struct MachineTopologyFamilyTests {
    @Test func twoSocketsInOneNodeGiveOneSeriesPerLabelSet() throws {
        var machine = MachineInfo()
        machine.topology = MachineInfo.topology(paths: HostPaths(root: Fixtures.path("sys-two-sockets")))
        #expect(machine.topology.count == 1 && machine.topology.first?.cores.count == 4)
        #expect(machine.topology.first?.caches.count == 2, "two L3 caches shared by the node")
        let family = try #require(MachineFamily.all.first { $0.name == "machine_cpu_cache_capacity_bytes" })
        var sink = MetricSeriesSink(writer: PrometheusTextWriter())
        sink.subjects([[Array("b".utf8), Array("m".utf8), Array("u".utf8)]], schema: MachineFamily.schema)
        sink.begin(family: family.name, help: family.help, type: .gauge, extra: family.extraLabels, schema: MachineFamily.schema)
        sink.current = 0
        family.values(machine, &sink)
        let text = sink.writer.string
        #expect(Exposition.duplicateSeries(text).isEmpty, "\(Exposition.duplicateSeries(text))")
        #expect(text.contains(#"core_id="",level="3",machine_id="m",node_id="0",system_uuid="u",type="Unified"} 3.3554432e+07"#),
                "the node's two 16 MiB L3 caches summed: \(text)")
        #expect(text.split(separator: "\n").filter { $0.contains("type=\"Data\"") }.count == 2, "core ids 0 and 1")
    }
}
