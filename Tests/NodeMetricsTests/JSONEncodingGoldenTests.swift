import Foundation
import Testing
@testable import NodeMetrics

/// The JSON encoder's output, byte for byte, as it was before it was made fast (issue 14): every
/// writer that the storage drivers and the API use — v1 ContainerStats, v1 ContainerInfo, v2.0/v2.1
/// stats, redis's transaction, kafka's messages, elasticsearch's bulk body, GoTime, JSONWriter's
/// strings and numbers — on the fixture cgroups (ordinary and u64 maxima), a sample with every part
/// filled in, and names full of what must be escaped. `Fixtures/encoding-golden.txt` was written by
/// the encoder before the change (NODE_METRICS_WRITE_GOLDEN=1 writes it again); any byte that differs
/// fails with its offset and both sides' text around it.
@Suite struct JSONEncodingGoldenTests {
    /// Strings with every kind of character JSONWriter treats apart: Go's named escapes, other
    /// control characters, HTML's `<>&`, U+2028/U+2029 (E2 80 A8/A9), other characters starting with
    /// E2 (U+2027, U+202A, U+20AC, U+2030, U+2100, U+27FF), E2 at the end of a string, other multibyte
    /// UTF-8 (2, 3 and 4 bytes), DEL, and plain ASCII runs around them.
    static let tricky: [String] = [
        "", "plain", "a\"b\\c/d", "\n\r\t\u{8}\u{C}", "\u{0}\u{1}\u{1F}\u{7F}", "<script>&amp;</script>",
        "\u{2028}\u{2029}", "x\u{2028}y\u{2029}z", "\u{2027}\u{202A}\u{20AC}\u{2030}\u{2100}\u{27FF}",
        "€", "a€", "€\u{2028}", "\u{2029}€", "é", "ü\u{00A0}ß", "日本語", "🙂🚀", "e\u{301}",
        "mixed \"q\" <b> & \u{2028} é € 🙂 \u{1B}[0m\\", String(repeating: "long run without escapes ", count: 20),
        String(repeating: "<", count: 40), "/docker/0123456789abcdef", "/system.slice/a\\x2db.scope",
    ]

    /// A sample with every optional part present (network, connections with advanced TCP, filesystems,
    /// processes with ulimits, NUMA, hugetlb, disk I/O, pressure, referenced bytes) and `tricky` names.
    static func fullSample(_ t: Int64, variant: Int) -> ContainerSample {
        var s = ContainerSample()
        s.timestampNanos = t
        s.cpu.usage.total = 123_456_789_012 &* UInt64(variant + 1)
        s.cpu.usage.perCPU = variant == 0 ? [1, 22, 333, UInt64.max] : []
        s.cpu.usage.user = 98_765
        s.cpu.usage.system = UInt64.max
        s.cpu.cfs.periods = 10
        s.cpu.cfs.throttledTime = 1_000_000_007
        s.memory.usage = 104_857_600
        s.memory.workingSet = 83_886_080
        s.memory.kernelUsage = 4096
        s.memory.pgfault = 77
        s.memory.hierarchicalPgmajfault = 5
        s.pids.current = 7
        s.pids.max = variant == 0 ? 0 : 4096
        var pressure = PressureStats()
        pressure.some.total = 987_654
        pressure.some.avg10 = 12.5
        pressure.some.avg60 = 0.01
        pressure.some.avg300 = 1e-7
        pressure.full.avg10 = 100
        pressure.full.avg60 = 3.25
        pressure.full.avg300 = 99.99
        s.cpuPressure = pressure
        s.memoryPressure = variant == 0 ? nil : pressure
        s.memoryEvents.high = 3
        s.memoryEvents.max = UInt64.max
        var disk = DiskIOSample()
        var row = DiskDeviceStats(major: 8, minor: 0)
        for (i, op) in DiskDeviceStats.operations.enumerated() where i % 2 == variant % 2 { row[op] = UInt64(i * 1000 + 1) }
        var row2 = DiskDeviceStats(major: 253, minor: 1)
        row2["Read"] = UInt64.max
        disk.ioServiceBytes = [row, row2]
        disk.ioServiced = [row2]
        disk.ioCostUsage = [row]
        disk.ioCostWait = variant == 0 ? [row] : []
        disk.ioCostIndebt = [row2]
        disk.ioCostIndelay = [row, row2]
        disk.pressure = pressure
        s.diskIO = disk
        var h1 = HugetlbSample(pageSize: "2Mi")
        h1.usage = 4_194_304
        h1.maxUsage = variant == 0 ? 0 : 8_388_608
        h1.failcnt = 3
        s.hugetlb = [HugetlbSample(pageSize: "1Gi"), h1]
        s.network = tricky.prefix(4 + variant).enumerated().map { i, name in
            NetInterfaceStats(name: name, rxBytes: UInt64(i), rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: UInt64.max,
                              txPackets: 6, txErrors: 7, txDropped: 8)
        }
        var tcp = TCPStats()
        for i in tcp.states.indices { tcp.states[i] = UInt64(i * 3) }
        var udp = UDPStats()
        udp.listen = 1
        udp.txQueued = UInt64.max
        var advanced = TCPAdvancedStats()
        for i in advanced.values.indices { advanced.values[i] = UInt64(i * 7) }
        advanced.values[TCPAdvancedStats.maxConnIndex] = UInt64(bitPattern: -1)
        s.connections = ConnectionStats(tcp: tcp, tcp6: TCPStats(), udp: udp, udp6: UDPStats(),
                                        advanced: variant == 0 ? advanced : nil)
        var fs = FilesystemStats(device: tricky[3 + variant], type: "ext4")
        fs.capacity = 1 << 40
        fs.inodes = variant == 0 ? 0 : 1000
        fs.io = variant == 0 ? [] : (0..<13).map { UInt64($0) }
        var fs2 = FilesystemStats(device: "/dev/vda1", type: "xfs")
        fs2.io = [1, 2, 3]
        s.filesystems = [fs, fs2]
        var p = ProcessStats()
        p.processCount = 3
        p.fdCount = 42
        p.openFilesSoft = variant == 0 ? 1024 : nil
        p.openFilesHard = variant == 0 ? nil : UInt64.max
        s.processes = p
        var numa = NumaMemory()
        numa.container.file = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
        numa.container.unevictable = [9]
        numa.hierarchical.anon = [100, 200]
        s.numa = numa
        s.schedstat.runTime = 55
        s.referencedBytes = UInt64(variant) * 4096
        s.memoryMigrate = UInt64(variant)
        return s
    }

    static func samples() throws -> [ContainerSample] {
        let v2 = try Fixtures.v2Hierarchy(), v1 = try Fixtures.v1Hierarchy(), scratch = SampleScratch()
        var out = [
            try CgroupHandle(hierarchy: v2, name: "/kubepods/burstable/pod1234/abc").sample(using: scratch),
            try CgroupHandle(hierarchy: v2, name: "/extreme").sample(using: scratch),
            try CgroupHandle(hierarchy: v1, name: "/docker/abc").sample(using: scratch),
            try CgroupHandle(hierarchy: v1, name: "/docker/extreme").sample(using: scratch),
            try CgroupHandle(hierarchy: v1, name: "/").sample(using: scratch),
            fullSample(1_795_000_000_123_456_789, variant: 0),
            fullSample(1_795_000_001_000_000_000, variant: 1),
            ContainerSample(),
        ]
        for (i, t) in [Int64(1_795_000_000_000_000_001), -1, 0, 1_583_064_000_120_000_000, 1_795_000_000_999_999_999].enumerated() {
            out[i].timestampNanos = t
        }
        return out
    }

    static func storedSamples() throws -> [StoredSample] {
        try samples().enumerated().map { i, s in
            var m = ContainerMetadata()
            if i % 2 == 1 {
                m.aliases = [tricky[i % tricky.count], "id-\(tricky[(i + 5) % tricky.count])"]
                m.runtime = "docker"
            } else if i % 4 == 2 {
                m.aliases = ["only-alias"] // no runtime: kafka's container_Id left out
            }
            return StoredSample(containerName: i == 4 ? "/" : "/c\(i)/\(tricky[(i + 7) % tricky.count])", metadata: m, sample: s)
        }
    }

    static func deviceName(_ major: UInt32, _ minor: UInt32) -> String {
        major == 8 ? "sda" : minor == 1 ? tricky[6] : ""
    }

    /// Everything the golden file holds, each part after a `=== name` line.
    static func rendered() throws -> [UInt8] {
        var out: [UInt8] = []
        func part(_ name: String, _ bytes: [UInt8]) {
            out += Array("\n=== \(name)\n".utf8)
            out += bytes
        }
        // JSONWriter on its own: strings as keys and values, numbers.
        var w = JSONWriter()
        w.beginObject()
        for (i, s) in tricky.enumerated() {
            w.field(s, s)
            w.key("k\(i)")
            w.value(s)
        }
        let doubles: [Double] = [0, -0.0, 1, -1, 0.1, 0.2 + 0.1, 1.04, 100, 1e-7, 1e-5, 0.000123, 123456.789, 1e20, 1e21,
                                 -1e21, 1.5e300, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .nan, .infinity, -.infinity, 2.5e-8,
                                 9_007_199_254_740_992, 18_446_744_073_709_551_616]
        w.array("doubles", doubles) { w, d in w.value(d) }
        w.array("ints", [Int64.min, -1, 0, 1, Int64.max]) { w, v in w.value(v) }
        w.array("uints", [UInt64.min, 9, 10, 99, 100, 1_000_000, UInt64.max]) { w, v in w.value(v) }
        w.field("t", true)
        w.field("f", false)
        // "é" and "e\u{301}" are one key to a Swift dictionary: the first one kept.
        w.map("map", Dictionary(tricky.enumerated().map { ($1, UInt64($0)) }, uniquingKeysWith: { a, _ in a }))
        w.endObject()
        part("writer", w.bytes)
        var times = ""
        for t: Int64 in [0, -1, 1, -1_000_000_000, 1_000_000_000, 951_782_400_000_000_000, 951_868_799_999_999_999,
                         1_795_000_000_123_456_789, 1_795_000_000_120_000_000, 1_795_000_000_100_000_000, 4_102_444_800_000_000_000,
                         Int64.max, Int64.min, -8_000_000_000_000_000_000] {
            times += GoTime.rfc3339Nano(nanosSinceEpoch: t) + " " + GoTime.rfc3339Seconds(nanosSinceEpoch: t) + "\n"
        }
        part("gotime", Array(times.utf8))
        let samples = try samples()
        for (i, s) in samples.enumerated() {
            part("v1 \(i)", Array(CAdvisorV1Stats.json(s, deviceName: deviceName).utf8))
        }
        var spec = CgroupSpec()
        spec.hasCPU = true
        spec.hasMemory = true
        spec.hasDiskIO = true
        spec.hasPids = true
        spec.hasHugetlb = true
        spec.cpuMask = "0-1"
        spec.memoryLimit = UInt64.max
        var metadata = ContainerMetadata()
        metadata.aliases = [tricky[2], tricky[6]]
        metadata.runtime = "docker"
        metadata.namespace = "docker"
        metadata.labels = ["a": tricky[5], tricky[4]: "b"]
        let snapshot = ContainerSnapshot(name: "/docker/" + tricky[8], spec: spec, creationTimeNanos: 1_795_000_000_000_000_000,
                                         samples: samples.filter { $0.timestampNanos > 0 }.sorted { $0.timestampNanos < $1.timestampNanos },
                                         derived: DerivedStats(), oomEvents: 2, metadata: metadata)
        var info = JSONWriter()
        CAdvisorV1Info.writeContainerInfo(snapshot, subcontainers: ["/a", tricky[9]], deviceName: deviceName, to: &info)
        part("v1 info", info.bytes)
        var v20 = JSONWriter()
        CAdvisorV2Stats.writeDeprecated(snapshot, deviceName: deviceName, &v20)
        part("v2.0 stats", v20.bytes)
        var v21 = JSONWriter()
        CAdvisorV2Stats.writeInfo(snapshot, deviceName: deviceName, &v21)
        part("v2.1 info", v21.bytes)
        let stored = try storedSamples()
        for (machine, key) in [("node1", "cadvisor"), (tricky[18], tricky[7])] {
            part("redis \(key)", RedisDriver.transaction(stored, key: key, machine: machine))
            for t: Int64 in [1_795_000_000_123_456_789, 1_795_000_000_000_000_000] {
                KafkaDriver.messages(stored, sendTimeNanos: t, machine: machine) { part("kafka \(t)", Array($0)) }
            }
        }
        for (index, type) in [("cadvisor", "stats"), (tricky[6], ""), (tricky[15], tricky[3])] {
            var c = ElasticsearchDriver.Configuration()
            c.host = "http://127.0.0.1:9"
            c.index = index
            c.type = type
            part("elasticsearch \(type)", try ElasticsearchDriver(configuration: c, machine: tricky[19]).bulkBody(stored))
        }
        return out
    }

    static let goldenPath = Fixtures.path("encoding-golden.txt")

    @Test func outputIsByteForByteWhatItWas() throws {
        let now = try Self.rendered()
        if ProcessInfo.processInfo.environment["NODE_METRICS_WRITE_GOLDEN"] == "1" {
            try Data(now).write(to: URL(fileURLWithPath: Self.goldenPath))
        }
        let golden = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.goldenPath)))
        guard now != golden else { return }
        let at = (0..<min(now.count, golden.count)).first { now[$0] != golden[$0] } ?? min(now.count, golden.count)
        func around(_ b: [UInt8]) -> String { String(decoding: b[max(0, at - 200)..<min(b.count, at + 100)], as: UTF8.self) }
        Issue.record("""
            differs at byte \(at) (now \(now.count) bytes, golden \(golden.count))
            now:    \(around(now))
            golden: \(around(golden))
            """)
    }

    /// Go's encoding/json escaping, one scalar at a time (the reference for strings of any content).
    static func goEscaped(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if u.value < 0x20 || u == "<" || u == ">" || u == "&" {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    /// Random strings (weighted towards the bytes and characters that escape) against the reference.
    @Test func stringsEscapeAsGoDoes() {
        var rng = SystemRandomNumberGenerator()
        let pool: [Unicode.Scalar] = ["a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "\n", "\r", "\t", "\u{0}", "\u{1F}",
                                      "\u{7F}", "\u{80}", "é", "\u{2027}", "\u{2028}", "\u{2029}", "\u{202A}", "€", "\u{2030}",
                                      "\u{FFFD}", "\u{FEFF}", "🙂", "\u{10FFFF}", "日"]
        for s in Self.tricky {
            var w = JSONWriter()
            w.value(s)
            #expect(w.string == Self.goEscaped(s), "\(s.debugDescription)")
        }
        for _ in 0..<3000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &rng) {
                s.append(Bool.random(using: &rng) ? pool.randomElement(using: &rng)!
                         : Unicode.Scalar(UInt32.random(in: 0...0x7F, using: &rng))!)
            }
            let text = String(s)
            var w = JSONWriter()
            w.beginObject()
            w.field(text, text)
            w.endObject()
            #expect(w.string == "{" + Self.goEscaped(text) + ":" + Self.goEscaped(text) + "}", "\(text.debugDescription)")
        }
    }

    /// The drivers keep their buffers from one batch to the next: a second batch (shorter, longer,
    /// other samples) comes out exactly as a first one written into fresh buffers.
    @Test func reusedBuffersWriteWhatFreshOnesDo() throws {
        let stored = try Self.storedSamples()
        var options = StorageOptions()
        options.host = "127.0.0.1:6379"
        options.db = Self.tricky[7]
        options.machineName = Self.tricky[18]
        let redis = try RedisDriver(options: options)
        var c = ElasticsearchDriver.Configuration()
        c.host = "http://127.0.0.1:9"
        let es = try ElasticsearchDriver(configuration: c, machine: Self.tricky[18])
        for batch in [stored, Array(stored.prefix(2)), stored + stored, [stored[5]], stored.reversed()] {
            #expect(redis.transaction(batch) == RedisDriver.transaction(batch, key: Self.tricky[7], machine: Self.tricky[18]))
            let body = es.bulkBody(batch)
            let fresh = try ElasticsearchDriver(configuration: c, machine: Self.tricky[18]).bulkBody(batch)
            #expect(body == fresh)
            var messages: [[UInt8]] = []
            KafkaDriver.messages(batch, sendTimeNanos: 1_795_000_000_500_000_000, machine: Self.tricky[18]) { messages.append(Array($0)) }
            #expect(messages == batch.map { KafkaDriver.message($0, sendTimeNanos: 1_795_000_000_500_000_000, machine: Self.tricky[18]) })
        }
    }
}
