import Foundation
import Testing
@testable import NodeMetrics

/// Debian's victoria-metrics (scripts/install-deps.sh --test) on a loopback port with a temporary
/// storage directory; `restart()` starts it again on the same port and data. Stopped when the value goes away.
final class RunningVictoriaMetrics {
    let directory: TemporaryDirectory
    private(set) var child: ChildProcess?
    private(set) var port = 0

    init() throws {
        directory = try TemporaryDirectory()
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000)
            self.port = port
            if try start() { return }
        }
        throw TestFailure("victoria-metrics did not start")
    }

    @discardableResult
    func start() throws -> Bool {
        let p = try ChildProcess("/usr/bin/victoria-metrics", ["-httpListenAddr=127.0.0.1:\(port)",
                                                               "-storageDataPath=\(directory.file("data"))",
                                                               "-search.latencyOffset=0s", "-search.disableCache",
                                                               "-loggerLevel=ERROR"])
        let ready = eventually(15) { (try? LoopbackHTTP.get(port: port, "/health"))?.status == 200 ? true : nil } ?? false
        if ready && p.process.isRunning {
            child = p
            return true
        }
        p.stop()
        return false
    }

    func stop() {
        child?.stop()
        child = nil
    }

    deinit { stop() }

    /// An instant query's series ([] on any error).
    func query(_ q: String, time: Double? = nil) -> [[String: Any]] {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        let at = time.map { "&time=\($0)" } ?? ""
        guard let r = try? LoopbackHTTP.get(port: port, "/api/v1/query?query=\(encoded)\(at)"),
              let json = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return [] }
        return (json["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
    }
}

@Suite(.serialized) struct RemoteWriteTests {
    // MARK: encoding

    @Test func expositionLinesBecomeSortedSeriesWithExternalLabels() throws {
        let text = """
        # HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.
        # TYPE container_cpu_usage_seconds_total counter
        container_cpu_usage_seconds_total{cpu="total",id="/a",image="",name="x\\"y\\\\z\\nw"} 1.5 1700000000123
        machine_scrape_error 0
        up{Zeta="1",alpha="2"} +Inf

        """
        let series = RemoteWriteEncoding.series(fromExposition: Array(text.utf8), timestampMillis: 42,
                                                external: [("cluster", "c1"), ("id", "ignored")])
        try #require(series.count == 3)
        #expect(series[0].labels.map(\.name) == ["__name__", "cluster", "cpu", "id", "name"]) // image="" dropped
        #expect(series[0].labels.first { $0.name == "name" }?.value == "x\"y\\z\nw")
        #expect(series[0].labels.first { $0.name == "id" }?.value == "/a") // the series' own wins
        #expect(series[0].value == 1.5 && series[0].timestampMillis == 1700000000123)
        #expect(series[1].labels.map(\.name) == ["__name__", "cluster", "id"] && series[1].timestampMillis == 42)
        // Sorted by bytes: uppercase before "_", "_" before lowercase.
        #expect(series[2].labels.map(\.name) == ["Zeta", "__name__", "alpha", "cluster", "id"])
        #expect(series[2].value == .infinity)
    }

    /// The encoder that keeps series' labels between renders gives the bytes of the plain path
    /// (parse every line, encode every series), on a first render, a repeat with new values, and a
    /// render where series come and go (labels with `}`, `"` and spaces in values included).
    @Test func theCachingEncoderMatchesThePlainEncodingAcrossRenders() throws {
        let external: [(name: String, value: String)] = [("cluster", "c1")]
        let renders = [
            "# TYPE a counter\na{id=\"/x\",name=\"} {\\\"q\\\" \"} 1\nb 2\nc{id=\"/y\"} NaN\n",
            "# TYPE a counter\na{id=\"/x\",name=\"} {\\\"q\\\" \"} 1.5\nb 3 1700000000000\nc{id=\"/y\"} +Inf\n",
            "b 4\nd{id=\"/z\",image=\"\"} -7e-05\na{id=\"/x\",name=\"} {\\\"q\\\" \"} 2\ncut{id=\"/w\n",
        ]
        var encoder = RemoteWriteEncoding.RequestEncoder()
        for (i, text) in renders.enumerated() {
            let bytes = Array(text.utf8)
            let plain = RemoteWriteEncoding.series(fromExposition: bytes, timestampMillis: Int64(1000 + i), external: external)
            let (request, samples) = encoder.encode(exposition: bytes, timestampMillis: Int64(1000 + i), external: external)
            #expect(samples == plain.count && samples == 3, "render \(i)")
            #expect(request == RemoteWriteEncoding.writeRequest(plain), "render \(i)")
        }
    }

    @Test func writeRequestBytesAndSnappyRoundTrip() throws {
        let s = RemoteWriteSeries(labels: [("__name__", "up"), ("job", "a")], value: 1, timestampMillis: 300)
        let raw = RemoteWriteEncoding.writeRequest([s])
        // WriteRequest{timeseries{labels{name,value} labels{…} samples{value=1.0, timestamp=300}}}
        let label1: [UInt8] = [0x0A, 8] + Array("__name__".utf8) + [0x12, 2] + Array("up".utf8)
        let label2: [UInt8] = [0x0A, 3] + Array("job".utf8) + [0x12, 1] + Array("a".utf8)
        let sample: [UInt8] = [0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0xAC, 0x02]
        let ts: [UInt8] = [0x0A, UInt8(label1.count)] + label1 + [0x0A, UInt8(label2.count)] + label2 + [0x12, UInt8(sample.count)] + sample
        #expect(raw == [0x0A, UInt8(ts.count)] + ts)
        let big = [UInt8](repeating: 0x41, count: 100_000) + raw
        let compressed = RemoteWriteEncoding.snappy(big)
        #expect(compressed.count < big.count / 10)
        #expect(RemoteWriteEncoding.unsnappy(compressed) == big)
        // The block format starts with the raw length as a varint (the framed format with 0xFF "sNaPpY").
        var length = 0, shift = 0
        for b in compressed.prefix(5) {
            length |= Int(b & 0x7F) << shift
            shift += 7
            if b < 0x80 { break }
        }
        #expect(length == big.count)
    }

    @Test func badFlagsAreClearErrors() throws {
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteConfiguration.parseExternalLabels("a=1,=2") }
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteConfiguration.parseExternalLabels("1a=x") }
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteConfiguration.parseExternalLabels("a=") }
        #expect(try RemoteWriteConfiguration.parseExternalLabels("cluster=c1,node=n-1").map(\.value) == ["c1", "n-1"])
        var c = RemoteWriteConfiguration()
        c.bearerTokenFile = "/nonexistent/token"
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteTarget(url: "http://127.0.0.1:9/api/v1/write", configuration: c) }
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteTarget(url: "ftp://x/", configuration: RemoteWriteConfiguration()) }
        #expect(throws: RemoteWriteConfiguration.Invalid.self) { try RemoteWriteTarget(url: "http://h:99999/", configuration: RemoteWriteConfiguration()) }
        // The agent refuses them at start-up, naming the flag.
        for (flags, expected) in [(["-remote_write_url=ftp://x/"], "remote_write_url"),
                                  (["-remote_write_url=http://127.0.0.1:9/w", "-remote_write_bearer_token_file=/nonexistent"], "remote_write_bearer_token_file"),
                                  (["-remote_write_external_labels=a"], "remote_write")] {
            let out = try run(Package.root + "/.build/debug/node-metrics", ["-port=1"] + flags)
            #expect(out.status != 0, "\(flags)")
            #expect(out.output.contains(expected), "\(flags): \(out.output)")
        }
    }

    /// Against a loopback server that checks every request: the protocol's headers, basic auth, a
    /// snappy block holding a WriteRequest; 500 and 429 retried with the same body, 400 not.
    @Test func requestsCarryTheProtocolHeadersAndOnlyRetryableFailuresAreRetried() throws {
        final class Statuses: @unchecked Sendable {
            let lock = NSLock()
            var next = [500, 429, 204, 400]
            func take() -> Int { lock.withLock { next.isEmpty ? 204 : next.removeFirst() } }
        }
        let statuses = Statuses()
        let server = try LoopbackServer { _ in (statuses.take(), "") }
        let dir = try TemporaryDirectory()
        try "user:pa ss\n".write(toFile: dir.file("auth"), atomically: true, encoding: .utf8)
        var c = RemoteWriteConfiguration()
        c.urls = ["http://127.0.0.1:\(server.port)/api/v1/write"]
        c.interval = .milliseconds(300)
        c.basicAuthFile = dir.file("auth")
        c.externalLabels = [("cluster", "c1")]
        let manager = try ContainerManager(configuration: ManagerConfiguration())
        let writer = try RemoteWriter(configuration: c, exporter: PrometheusExporter(manager: manager))
        try writer.start()
        let requests = eventually(30) { server.requests.count >= 6 ? server.requests : nil }
        writer.stop(flushTimeout: .zero)
        let r = try #require(requests)
        for q in r {
            #expect(q.method == "POST" && q.path == "/api/v1/write")
            #expect(q.headers["content-encoding"] == "snappy")
            #expect(q.headers["content-type"] == "application/x-protobuf")
            #expect(q.headers["x-prometheus-remote-write-version"] == "0.1.0")
            #expect(q.headers["user-agent"]?.hasPrefix("node-metrics/") == true)
            #expect(q.headers["authorization"] == "Basic " + Data("user:pa ss".utf8).base64EncodedString())
            let raw = try #require(RemoteWriteEncoding.unsnappy(q.body))
            #expect(raw.first == 0x0A) // WriteRequest.timeseries
            #expect(String(decoding: raw, as: UTF8.self).contains("machine_memory_bytes"))
            #expect(String(decoding: raw, as: UTF8.self).contains("cluster"))
        }
        // 500 and 429: the same request again; 204: the next; 400: dropped, the next one follows.
        #expect(r[0].body == r[1].body && r[1].body == r[2].body)
        #expect(r[3].body != r[2].body && r[4].body != r[3].body)
        #expect(writer.counters[0].errors.load(ordering: .relaxed) == 3)
        #expect(writer.counters[0].dropped.load(ordering: .relaxed) > 0)
        #expect(writer.counters[0].sent.load(ordering: .relaxed) > 0)
        // With the storage drivers' series on /metrics and the line in /validate/.
        let exposition = String(decoding: PrometheusExporter(manager: manager).scrape(), as: UTF8.self)
        #expect(exposition.contains("node_metrics_storage_send_errors_total{driver=\"remote_write\"} 3"))
        #expect(exposition.contains("node_metrics_storage_sent_samples_total{driver=\"remote_write\"} "))
        #expect(ValidationReport.text(manager: manager).contains("remote_write: http://127.0.0.1:\(server.port)/api/v1/write; sent "))
    }

    // MARK: real receivers

    /// A busy cgroup's CPU counter, pushed by the agent, read back from the receiver with PromQL.
    static func cpu(_ query: (String) throws -> [[String: Any]], _ id: String) rethrows -> Double? {
        // Summed: on cgroup v1 the series are per CPU, and the busy loop may run on either.
        try query("sum(container_cpu_usage_seconds_total{id=\"\(id)\",cluster=\"test\"})").first.flatMap { RunningPrometheus.value($0) }
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/prometheus")))
    func prometheusReceivesTheSeries() throws {
        let layout = try #require(HostCgroups.layout)
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.run("while :; do :; done")
        let prometheus = try RunningPrometheus(scrapeConfigs: "  []", arguments: ["--web.enable-remote-write-receiver"])
        let token = try TemporaryDirectory()
        try "s3cret\n".write(toFile: token.file("token"), atomically: true, encoding: .utf8)
        let agent = try RunningAgent(["-housekeeping_interval=1s", "-remote_write_url=http://127.0.0.1:\(prometheus.port)/api/v1/write",
                                      "-remote_write_external_labels=cluster=test,node=n1",
                                      "-remote_write_bearer_token_file=\(token.file("token"))"])
        defer { agent.child.stop() }
        let first = try #require(eventually(30) { try Self.cpu(prometheus.query, cg.name) }, "\(agent.child.process.isRunning)")
        let later = try #require(eventually(20) { try Self.cpu(prometheus.query, cg.name).flatMap { $0 > first + 0.3 ? $0 : nil } })
        #expect(later > first)
        let series = try #require(try prometheus.query("container_cpu_usage_seconds_total{id=\"\(cg.name)\"}").first?["metric"] as? [String: String])
        #expect(series["cluster"] == "test" && series["node"] == "n1" && series["cpu"] != nil)
        #expect(series["image"] == nil) // empty labels are not sent
        // The same families as /metrics: every family name /metrics has, the receiver has.
        let names = try Set(agent.get("/metrics").body.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }
            .map { String($0.split(separator: " ")[2]) })
        // (Counted: the list of names is a response too large for the test's plain HTTP reader.)
        // The receiver may hold more: families whose only series (another test's cgroup, a
        // container come and gone) were pushed earlier and left /metrics since.
        let namesRegex = names.sorted().joined(separator: "|")
        let families = eventually(20) { () -> Double? in
            let n = (try? prometheus.query("count(count by (__name__) ({cluster=\"test\",__name__=~\"\(namesRegex)\"}))"))?
                .first.flatMap(RunningPrometheus.value) ?? 0
            return n >= Double(names.count) ? n : nil
        }
        #expect(families == Double(names.count), "families /metrics has: \(names.count)")
        let some = Set(try prometheus.query("count by (__name__) ({cluster=\"test\",__name__=~\"machine_memory_bytes|cadvisor_version_info|process_cpu_seconds_total\"})")
            .compactMap { ($0["metric"] as? [String: String])?["__name__"] })
        #expect(some == ["machine_memory_bytes", "cadvisor_version_info", "process_cpu_seconds_total"])
        let refusals = agent.stopAndCollectSandboxRefusals() // snappy and the writer's sockets inside the sandbox
        #expect(refusals.isEmpty, "\(refusals)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/bin/victoria-metrics")))
    func victoriaMetricsReceivesAndCatchesUpAfterAnOutage() throws {
        let layout = try #require(HostCgroups.layout)
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.run("while :; do :; done")
        let vm = try RunningVictoriaMetrics()
        let agent = try RunningAgent(["-housekeeping_interval=1s", "-remote_write_url=http://127.0.0.1:\(vm.port)/api/v1/write",
                                      "-remote_write_external_labels=cluster=test", "-prometheus_labels=kubernetes"])
        defer { agent.child.stop() }
        let first = try #require(eventually(40) { Self.cpu({ vm.query($0) }, cg.name) })
        _ = try #require(eventually(20) { Self.cpu({ vm.query($0) }, cg.name).flatMap { $0 > first ? $0 : nil } })
        // Receiver down for 10 s: the agent keeps sampling and queues; after the restart the queued
        // requests arrive, so the gap is filled with one sample per second.
        vm.stop()
        let down = Date().timeIntervalSince1970
        sleep(10)
        let up = Date().timeIntervalSince1970
        try #require(try vm.start(), "victoria-metrics did not restart")
        #expect(agent.child.process.isRunning)
        let window = Int(up - down) - 1
        let inGap = eventually(40) { () -> Double? in
            let q = "count_over_time(machine_memory_bytes{cluster=\"test\"}[\(window)s])"
            guard let n = vm.query(q, time: up).first.flatMap(RunningPrometheus.value), n >= Double(window - 2) else { return nil }
            return n
        }
        #expect(inGap != nil, "samples in the \(window) s the receiver was down: \(vm.query("count_over_time(machine_memory_bytes[\(window)s])", time: up))")
        let metrics = try agent.get("/metrics").body
        #expect(metrics.contains("container_cpu_usage_seconds_total"))
    }
}
