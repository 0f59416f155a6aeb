import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

/// The statsd and influxdb drivers' encoders write bytes into reused buffers (issue 14's CPU cost);
/// these tests hold them to the String-building code they replaced (kept below, verbatim, only as
/// the oracle) over tricky names and extreme values, check the bytes that reach a socket, and what a
/// send that fails half-way does.
@Suite struct StorageEncodingTests {
    /// The encoders as they were before the byte buffers (commit 11d5e7e), the oracle.
    enum Oracle {
        static func values(_ s: ContainerSample, statsd: Bool) -> [(String, UInt64)] {
            var out: [(String, UInt64)] = [("cpu_cumulative_usage", s.cpu.usage.total)]
            if statsd {
                out.append(("cpu_usage_system", s.cpu.usage.system))
                out.append(("cpu_usage_user", s.cpu.usage.user))
                out.append(("cpu_load_average", 0))
            }
            out.append(("memory_usage", s.memory.usage))
            out.append(("memory_working_set", s.memory.workingSet))
            if statsd {
                out.append(("memory_rss", s.memory.rss))
                out.append(("memory_mapped_file", s.memory.mappedFile))
            }
            let net = s.network.first { $0.isContainerInterface }
            out.append(("rx_bytes", net?.rxBytes ?? 0))
            out.append(("rx_errors", net?.rxErrors ?? 0))
            out.append(("tx_bytes", net?.txBytes ?? 0))
            out.append(("tx_errors", net?.txErrors ?? 0))
            var limit: UInt64 = 0, usage: UInt64 = 0
            for fs in s.filesystems {
                out.append(("\(fs.device).fs_limit", fs.capacity))
                out.append(("\(fs.device).fs_usage", fs.usage))
                limit = limit.saturatingAdd(fs.capacity)
                usage = usage.saturatingAdd(fs.usage)
            }
            out.append(("fs_summary.fs_limit", limit))
            out.append(("fs_summary.fs_usage", usage))
            return out
        }

        static func datagrams(_ s: StoredSample, prefix: String) -> [String] {
            let base = "\(prefix).\(s.referenceName)."
            return values(s.sample, statsd: true).map { "\(base)\($0.0):\($0.1)|g" }
        }

        static func escape(_ s: String, tag: Bool) -> String {
            guard s.utf8.contains(where: { $0 == 44 || $0 == 32 || $0 == 61 || $0 == 92 }) else { return s }
            var out = ""
            for c in s {
                if c == "," || c == " " || (tag && c == "=") { out.append("\\") }
                out.append(c)
            }
            return out
        }

        static func point(_ measurement: String, _ tags: [(String, String)], _ value: UInt64, _ time: Int64) -> String {
            var line = escape(measurement, tag: false)
            for (k, v) in tags.sorted(by: { $0.0 < $1.0 }) where !v.isEmpty {
                line += ",\(escape(k, tag: true))=\(escape(v, tag: true))"
            }
            line += " value=\(min(value, UInt64(Int64.max)))i \(time)\n"
            return line
        }

        static func points(_ s: StoredSample, machine: String, into out: inout String) {
            let base = [("container_name", s.referenceName), ("machine", machine)]
            let t = s.sample.timestampNanos, c = s.sample.cpu.usage, m = s.sample.memory
            out += point("cpu_usage_total", base, c.total, t)
            out += point("cpu_usage_system", base, c.system, t)
            out += point("cpu_usage_user", base, c.user, t)
            for (i, v) in c.perCPU.enumerated() { out += point("cpu_usage_per_cpu", base + [("instance", "\(i)")], v, t) }
            out += point("load_average", base, 0, t)
            out += point("memory_usage", base, m.usage, t)
            out += point("memory_working_set", base, m.workingSet, t)
            let net = s.sample.network.first { $0.isContainerInterface }
            out += point("rx_bytes", base, net?.rxBytes ?? 0, t)
            out += point("rx_errors", base, net?.rxErrors ?? 0, t)
            out += point("tx_bytes", base, net?.txBytes ?? 0, t)
            out += point("tx_errors", base, net?.txErrors ?? 0, t)
            for fs in s.sample.filesystems {
                out += point("fs_usage", base + [("device", fs.device), ("type", "usage")], fs.usage, t)
                out += point("fs_limit", base + [("device", fs.device), ("type", "limit")], fs.capacity, t)
            }
        }
    }

    /// Names with what line protocol escapes (space, comma, `=`), what it does not (quotes,
    /// backslashes, newlines, tabs), and multi-byte text: composed and decomposed accents, CJK,
    /// right-to-left, emoji with ZWJ and skin tone, a lone combining mark. (A `,` ` ` or `=` that
    /// is one grapheme with a following combining mark is left out here: `combinedEscapes` below.)
    static let trickyNames = [
        "/", "", "/docker/0123", "my container", "a,b", "k=v", "a b,c=d", "\"quoted\"", "'single'", "back\\slash",
        "tab\there", "line\nbreak", "trailing\\", "ends,", " lead", "==", ",,", "  ", "café", "cafe\u{301}",
        "名前/コンテナ", "مرحبا", "👩‍💻 dev", "👍🏽,ok", "\u{301}start", "x=\u{1F600}", "%s%d", "a.b.c", "semi;colon|pipe:",
        String(repeating: "long-name,", count: 40),
    ]

    static let extremes: [UInt64] = [0, 1, 9, 10, 99, 100, UInt64(Int64.max) - 1, UInt64(Int64.max), UInt64(Int64.max) + 1, UInt64.max]

    /// Samples over the names and extreme values: every figure, per-CPU lists of 0, 1 and 64,
    /// interfaces the driver skips or takes, several filesystems (their sums saturate), negative and
    /// extreme timestamps.
    static func trickySamples() -> [StoredSample] {
        var out: [StoredSample] = []
        let times: [Int64] = [0, 1, -1, 1_583_064_000_123_456_789, Int64.max, Int64.min]
        for (i, name) in trickyNames.enumerated() {
            for (j, v) in extremes.enumerated() where (i + j) % 3 == 0 || i < 3 {
                var s = ContainerSample()
                s.timestampNanos = times[(i + j) % times.count]
                s.cpu.usage.total = v
                s.cpu.usage.system = extremes[(j + 1) % extremes.count]
                s.cpu.usage.user = extremes[(j + 2) % extremes.count]
                s.cpu.usage.perCPU = [[], [v], (0..<64).map { UInt64($0) &* v }][(i + j) % 3]
                s.memory.usage = v
                s.memory.workingSet = extremes[(j + 3) % extremes.count]
                s.memory.rss = extremes[(j + 4) % extremes.count]
                s.memory.mappedFile = extremes[(j + 5) % extremes.count]
                if (i + j) % 2 == 0 {
                    s.network = [NetInterfaceStats(name: "lo", rxBytes: 1, rxPackets: 1, rxErrors: 1, rxDropped: 1,
                                                   txBytes: 1, txPackets: 1, txErrors: 1, txDropped: 1),
                                 NetInterfaceStats(name: "eth0", rxBytes: v, rxPackets: 2, rxErrors: UInt64.max, rxDropped: 0,
                                                   txBytes: extremes[(j + 6) % extremes.count], txPackets: 1, txErrors: 0, txDropped: 0)]
                }
                if i % 4 == 0 {
                    var a = FilesystemStats(device: "/dev/sda1", type: "vfs"), b = FilesystemStats(device: "overlay, x=[\(name)]", type: "overlay")
                    a.capacity = v; a.usage = extremes[(j + 7) % extremes.count]
                    b.capacity = UInt64.max; b.usage = v
                    s.filesystems = [a, b]
                }
                var m = ContainerMetadata()
                if i % 2 == 1 { m.aliases = [name, "other"] }
                out.append(StoredSample(containerName: i % 2 == 1 ? "/docker/\(i)" : name, metadata: m, sample: s))
            }
        }
        return out
    }

    @Test func statsdBytesAreTheOldOnes() {
        for prefix in ["cadvisor", "", "my db", "a.b", "ü,="] {
            for s in Self.trickySamples() {
                #expect(StatsdDriver.datagrams(s, prefix: prefix) == Oracle.datagrams(s, prefix: prefix), "\(s.referenceName)")
            }
        }
        #expect(Self.trickySamples().count > 60)
    }

    @Test func stdoutKeysAreTheOldOnes() {
        for s in Self.trickySamples() {
            let new = FlatStats.values(s.sample, statsd: false), old = Oracle.values(s.sample, statsd: false)
            #expect(new.map(\.0) == old.map(\.0) && new.map(\.1) == old.map(\.1))
        }
    }

    @Test func influxBytesAreTheOldOnes() {
        for machine in ["node1", "", "my node,rack=1", "nœud é"] {
            for s in Self.trickySamples() {
                var old = ""
                Oracle.points(s, machine: machine, into: &old)
                #expect(InfluxDBDriver.points(s, machine: machine) == old, "\(s.referenceName)")
            }
        }
        for (k, v) in [("container_name", "a b,c=d"), ("x y", "1=2"), ("", ""), ("ä,", "\"q\"")] {
            for value in Self.extremes {
                for t in [Int64.min, -1, 0, Int64.max] {
                    #expect(InfluxDBDriver.point("m e,a", [(k, v), ("machine", "n")], value, t) == Oracle.point("m e,a", [(k, v), ("machine", "n")], value, t))
                }
            }
        }
    }

    /// A `,` ` ` or `=` followed by a combining mark is one Character in Swift: the old encoder,
    /// which compared Characters, left it unescaped and so broke the line (InfluxDB splits at the
    /// bare comma). Escaping is by byte now, as InfluxDB's Go client (cAdvisor's) does.
    @Test func combinedEscapes() {
        var s = Self.trickySamples()[0]
        s.containerName = "a,\u{301}b c\u{301}=\u{301}"
        let line = InfluxDBDriver.points(s, machine: "").split(separator: "\n")[0]
        #expect(line.hasPrefix("cpu_usage_total,container_name=a\\,\u{301}b\\ c\u{301}\\=\u{301} value="))
        var old = ""
        Oracle.points(s, machine: "", into: &old)
        #expect(old.hasPrefix("cpu_usage_total,container_name=a,\u{301}b\\ c\u{301}=\u{301} value="))
    }

    // MARK: on the wire

    static func statsdDriver(port: Int, packetSize: Int = 0) throws -> StatsdDriver {
        var options = StorageOptions()
        options.host = "127.0.0.1:\(port)"
        options.db = "nm"
        options.statsdPacketSize = packetSize
        return try StatsdDriver(options: options)
    }

    /// cAdvisor's framing (`-storage_driver_statsd_packet_size=0`): 150 samples, 2,400 datagrams,
    /// more than one flush (1,024) and many sendmmsg calls (256 each); every datagram arrives once,
    /// in order, as the oracle has it.
    @Test func statsdDatagramsOnTheWire() throws {
        let listener = try UDPListener()
        let driver = try Self.statsdDriver(port: listener.port)
        defer { driver.close() }
        let samples = Array(Self.trickySamples().prefix(150))
        try driver.write(samples)
        let expected = samples.flatMap { Oracle.datagrams($0, prefix: "nm") }
        let received = listener.receive(atLeast: expected.count)
        #expect(received.count == expected.count)
        #expect(received == expected)
    }

    /// Packed (the default, and a few odd sizes): the datagrams joined with newlines are the
    /// oracle's lines joined so (in order, none lost or doubled; names may hold newlines, so lines are
    /// not split back); a datagram is over the size only when it is a single line longer than it.
    @Test(arguments: [StorageOptions.defaultStatsdPacketSize, 1, 100, 8932])
    func statsdLinesPackedIntoDatagrams(size: Int) throws {
        let listener = try UDPListener()
        let driver = try Self.statsdDriver(port: listener.port, packetSize: size)
        defer { driver.close() }
        let samples = Array(Self.trickySamples().prefix(150))
        try driver.write(samples)
        let lines = samples.flatMap { Oracle.datagrams($0, prefix: "nm") }
        let expected = lines.joined(separator: "\n")
        var received: [String] = []
        while received.reduce(0, { $0 + $1.utf8.count + 1 }) <= expected.utf8.count {
            let more = listener.receive(for: 0.5)
            if more.isEmpty { break }
            received += more
        }
        #expect(received.joined(separator: "\n") == expected)
        let single = Set(lines)
        for (i, d) in received.enumerated() where d.utf8.count > size {
            #expect(single.contains(d), "datagram \(i): \(d.utf8.count) bytes, more than one line")
        }
        if size == StorageOptions.defaultStatsdPacketSize {
            #expect(received.count * 10 < lines.count, "\(received.count) datagrams for \(lines.count) lines")
        }
    }

    /// The C core's sender: more than one sendmmsg call, in order; a datagram too large for UDP in
    /// the middle stops it there with EMSGSIZE, after exactly the ones before it (none twice).
    @Test func sendDatagramsStopsAtTheFailedOne() throws {
        let listener = try UDPListener()
        let driver = try Self.statsdDriver(port: listener.port)
        defer { driver.close() }
        let fd = driver.fd
        func send(_ datagrams: [[UInt8]]) -> (sent: Int, err: Int32) {
            var buffer: [UInt8] = [], ends: [Int] = []
            for d in datagrams { buffer += d; ends.append(buffer.count) }
            var err: Int32 = 0
            let n = cgf_send_datagrams(fd, buffer, ends, ends.count, &err)
            return (n, err)
        }
        let many = (0..<600).map { Array("d\($0)".utf8) }
        let r1 = send(many)
        #expect(r1.sent == 600 && r1.err == 0)
        #expect(listener.receive(for: 0.5) == (0..<600).map { "d\($0)" })
        let huge = [UInt8](repeating: 0x41, count: 70_000)
        let r2 = send((0..<300).map { Array("e\($0)".utf8) } + [huge] + [Array("after".utf8)])
        #expect(r2.sent == 300 && r2.err == EMSGSIZE, "\(r2)")
        #expect(listener.receive(for: 0.5) == (0..<300).map { "e\($0)" })
        let r3 = send([huge])
        #expect(r3.sent == 0 && r3.err == EMSGSIZE)
    }

    /// A write that fails half-way: the datagrams before the failure went out, the write throws (a
    /// send error, counted by the sender, which keeps the whole batch and retries it), and the retry
    /// sends those first datagrams again: gauges set twice to the same value, nothing lost.
    @Test func aWriteThatFailsHalfWayThrowsAndIsRetriedWhole() throws {
        let listener = try UDPListener()
        let driver = try Self.statsdDriver(port: listener.port, packetSize: StorageOptions.defaultStatsdPacketSize)
        defer { driver.close() }
        let good = Self.trickySamples()[0]
        var poison = good
        poison.containerName = String(repeating: "x", count: 70_000)
        let before = StatsdDriver.datagrams(good, prefix: "nm", packetSize: StorageOptions.defaultStatsdPacketSize)
        #expect(before.joined(separator: "\n") == Oracle.datagrams(good, prefix: "nm").joined(separator: "\n"))
        for attempt in 1...2 {
            do {
                try driver.write([good, poison, good])
                Issue.record("attempt \(attempt): a datagram of 70 kB went out")
            } catch {
                #expect("\(error)".contains("Message too long") && "\(error)".contains("\(before.count) of the batch's datagrams sent"), "\(error)")
            }
            #expect(listener.receive(for: 0.3) == before, "attempt \(attempt)")
        }
    }

    /// Nobody listening: the kernel's ICMP refusals make writes fail (no silent success), and once a
    /// listener is there the same driver sends again.
    @Test func aRefusingPortFailsTheWrite() throws {
        let port: Int
        do {
            let probe = try UDPListener()
            port = probe.port
        }
        let driver = try Self.statsdDriver(port: port)
        defer { driver.close() }
        let samples = Array(Self.trickySamples().prefix(20))
        var failures = 0
        for _ in 0..<3 {
            do { try driver.write(samples) } catch { failures += 1 }
        }
        #expect(failures >= 2)
    }

    // MARK: influxdb's connection

    /// Against a real InfluxDB: several writes on one kept-alive connection; after influxd restarts
    /// (the kept connection dead) the next write goes on a new one without failing; every point is
    /// there.
    @Test func influxdbKeepsTheConnection() throws {
        let influx = try RunningInfluxDB()
        try influx.execute("CREATE DATABASE cadvisor")
        var options = StorageOptions()
        options.host = "127.0.0.1:\(influx.port)"
        options.machineName = "node,1"
        let driver = try InfluxDBDriver(options: options)
        defer { driver.close() }
        var samples = Array(Self.trickySamples().prefix(5))
        for i in samples.indices { samples[i].sample.timestampNanos = 1_700_000_000_000_000_000 + Int64(i) }
        for i in 0..<3 {
            try driver.write([samples[i]])
        }
        #expect(driver.connection.connects == 1)
        influx.stop()
        try influx.start()
        try driver.write([samples[3]])
        try driver.write([samples[4]])
        #expect(driver.connection.connects == 2)
        let rows = try influx.rows("SELECT value FROM cpu_usage_total WHERE machine = 'node,1'")
        #expect(rows.count == 5, "\(rows)")
    }

    /// A server that answers `Connection: close` gets a new connection per request, each answered.
    @Test func influxdbReconnectsWhenTheServerCloses() throws {
        let server = try LoopbackServer { _ in (204, "") }
        var options = StorageOptions()
        options.host = "127.0.0.1:\(server.port)"
        let driver = try InfluxDBDriver(options: options)
        defer { driver.close() }
        let samples = Array(Self.trickySamples().prefix(3))
        for s in samples { try driver.write([s]) }
        #expect(driver.connection.connects == 3)
        #expect(server.requests.map { String(decoding: $0.body, as: UTF8.self) } == samples.map { InfluxDBDriver.points($0, machine: options.machineName) })
        #expect(server.requests.allSatisfy { $0.headers["connection"] == nil })
    }
}
