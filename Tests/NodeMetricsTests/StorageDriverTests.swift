import Foundation
import Testing
@testable import NodeMetrics

/// A real InfluxDB 1.x (`influxd`, Debian's influxdb from scripts/install-deps.sh --test) on random
/// loopback ports (HTTP and RPC), its meta/data/wal in a temporary directory, reporting disabled.
/// `stop()` and `start()` take it down and bring it back on the same ports with the same data.
/// With `https` it serves HTTPS only (its `https-certificate` and `https-private-key`), queried with curl
/// trusting `ca`.
final class RunningInfluxDB {
    let directory: TemporaryDirectory
    let https: (certificate: String, privateKey: String, ca: String)?
    private(set) var port = 0
    private var child: ChildProcess?

    init(https: (certificate: String, privateKey: String, ca: String)? = nil) throws {
        self.https = https
        directory = try TemporaryDirectory()
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000), rpc = Int.random(in: 20000...60000)
            let d = directory.path
            let config = """
            reporting-disabled = true
            bind-address = "127.0.0.1:\(rpc)"
            [meta]
              dir = "\(d)/meta"
            [data]
              dir = "\(d)/data"
              wal-dir = "\(d)/wal"
              query-log-enabled = false
            [http]
              bind-address = "127.0.0.1:\(port)"
              log-enabled = false
            \(https.map { "  https-enabled = true\n  https-certificate = \"\($0.certificate)\"\n  https-private-key = \"\($0.privateKey)\"" } ?? "")
            [monitor]
              store-enabled = false
            """
            try config.write(toFile: directory.file("influxdb.conf"), atomically: true, encoding: .utf8)
            self.port = port
            if (try? start()) != nil { return }
        }
        throw TestFailure("influxd did not start")
    }

    func start() throws {
        let p = try ChildProcess("/usr/bin/influxd", ["-config", directory.file("influxdb.conf")])
        let up = eventually(20) { p.process.isRunning ? ((try? self.http("GET /ping"))?.status == 204 ? true : nil) : false }
        guard up == true else {
            p.stop()
            throw TestFailure("influxd did not answer /ping: \(p.log.suffix(2000))")
        }
        child = p
    }

    func stop() {
        child?.stop()
        child = nil
    }

    deinit { stop() }

    /// One request over HTTP/1.0 (so the answer is never chunked); with `https`, through curl.
    func http(_ requestLine: String, body: String = "") throws -> (status: Int, body: String) {
        if let https {
            let parts = requestLine.split(separator: " ", maxSplits: 1).map(String.init)
            var args = ["-sS", "--cacert", https.ca, "-o", "-", "-w", "\n%{http_code}", "-X", parts[0], "https://127.0.0.1:\(port)\(parts[1])"]
            if !body.isEmpty { args += ["-H", "Content-Type: application/x-www-form-urlencoded", "--data-binary", body] }
            let r = try run("/usr/bin/curl", args)
            guard r.status == 0, let nl = r.output.lastIndex(of: "\n"), let status = Int(r.output[r.output.index(after: nl)...]) else {
                throw TestFailure("curl \(args): \(r.output)")
            }
            return (status, String(r.output[..<nl]))
        }
        let type = body.isEmpty ? "" : "Content-Type: application/x-www-form-urlencoded\r\n"
        let r = try LoopbackHTTP.request(port: port, "\(requestLine) HTTP/1.0\r\n\(type)Content-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return (r.status, r.body)
    }

    func execute(_ q: String) throws {
        let r = try http("POST /query", body: "q=" + (q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q))
        guard r.status == 200 else { throw TestFailure("\(q): \(r.status) \(r.body)") }
    }

    /// An InfluxQL query's first series: its columns' rows ([] when none).
    func rows(_ q: String, db: String = "cadvisor") throws -> [[Any]] {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        let r = try http("GET /query?db=\(db)&epoch=ns&q=\(encoded)")
        guard r.status == 200, let json = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
              let results = json["results"] as? [[String: Any]], let first = results.first else {
            throw TestFailure("\(q): \(r.status) \(r.body)")
        }
        if let error = first["error"] as? String { throw TestFailure("\(q): \(error)") }
        let series = first["series"] as? [[String: Any]] ?? []
        return series.first?["values"] as? [[Any]] ?? []
    }
}

/// A real redis-server (Debian's redis 7) on a random loopback port, nothing persisted, its dir a
/// temporary directory; read back with redis-cli. `stop()`/`start()` as for InfluxDB (the data goes).
final class RunningRedis {
    let directory: TemporaryDirectory
    private(set) var port = 0
    private var child: ChildProcess?

    init() throws {
        directory = try TemporaryDirectory()
        for _ in 0..<5 {
            port = Int.random(in: 20000...60000)
            if (try? start()) != nil { return }
        }
        throw TestFailure("redis-server did not start")
    }

    func start() throws {
        let p = try ChildProcess("/usr/bin/redis-server", ["--port", "\(port)", "--bind", "127.0.0.1", "--save", "",
                                                          "--appendonly", "no", "--dir", directory.path])
        let up = eventually(10) { p.process.isRunning ? ((try? self.cli(["PING"])) == "PONG" ? true : nil) : false }
        guard up == true else {
            p.stop()
            throw TestFailure("redis-server did not answer: \(p.log.suffix(2000))")
        }
        child = p
    }

    func stop() {
        child?.stop()
        child = nil
    }

    deinit { stop() }

    func cli(_ args: [String]) throws -> String {
        let r = try run("/usr/bin/redis-cli", ["-h", "127.0.0.1", "-p", "\(port)"] + args)
        guard r.status == 0 else { throw TestFailure("redis-cli \(args): \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Every document of the list, newest first (LPUSH order), parsed.
    func documents(_ key: String = "cadvisor") throws -> [[String: Any]] {
        let out = try cli(["--raw", "LRANGE", key, "0", "-1"])
        return out.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}

/// A UDP socket on a random loopback port that collects the datagrams sent to it.
final class UDPListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("udp socket: \(errno)") }
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var size: Int32 = 8 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        guard let bound = bindLoopback(fd) else { close(fd); throw TestFailure("udp bind: \(errno)") }
        self.fd = fd
        port = bound
    }

    deinit { close(fd) }

    /// The datagrams that arrive until `count` have or none comes for half a second.
    func receive(atLeast count: Int) -> [String] {
        var out: [String] = []
        while out.count < count {
            let more = receive(for: 0.5)
            if more.isEmpty { break }
            out += more
        }
        return out
    }

    /// The datagrams that arrive within `seconds`.
    func receive(for seconds: Double) -> [String] {
        var out: [String] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { out.append(String(decoding: buf[0..<n], as: UTF8.self)) }
        }
        return out
    }
}

extension InotifyUsers {
    /// Issue 14: the agent pushing to real backends with cAdvisor's flags (`-storage_driver`), three
    /// live cgroups with processes (one busy); what arrives is read back from the backend.
    @Suite(.serialized) struct StorageDriverTests {
        /// Three cgroups with a process each; the first spins.
        final class Workload {
            let cgroups: [LiveCgroup]
            var busy: LiveCgroup { cgroups[0] }

            init() throws {
                let layout = try CgroupLayout.detect()
                var made: [LiveCgroup] = []
                do {
                    for i in 0..<3 {
                        let cg = try LiveCgroup(layout: layout)
                        made.append(cg)
                        try cg.run(i == 0 ? "while :; do :; done" : "sleep 600")
                    }
                } catch {
                    made.forEach { $0.destroy() }
                    throw error
                }
                cgroups = made
            }

            func destroy() { cgroups.forEach { $0.destroy() } }
        }

        static let hostname = StorageOptions.hostname()

        static func agent(_ flags: [String], launcher: [String] = []) throws -> RunningAgent {
            try RunningAgent(flags + ["-housekeeping_interval=1s"], launcher: launcher)
        }

        /// The value of an agent's own series (`node_metrics_storage_*{driver=…}`).
        static func counter(_ agent: RunningAgent, _ name: String, driver: String) throws -> Double? {
            let text = try agent.get("/metrics").body
            let prefix = "\(name){driver=\"\(driver)\"} "
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
            return Double(line.dropFirst(prefix.count))
        }

        static func int(_ v: Any?) -> Int64? { (v as? NSNumber)?.int64Value }

        // MARK: influxdb

        @Test func influxdbGetsCAdvisorsPoints() throws {
            let influx = try RunningInfluxDB()
            try influx.execute("CREATE DATABASE cadvisor")
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=influxdb", "-storage_driver_host=127.0.0.1:\(influx.port)",
                                        "-storage_driver_db=cadvisor", "-storage_driver_user=", "-storage_driver_buffer_duration=60s"])
            defer { agent.child.stop() }
            let busy = work.busy.name
            let points = eventually(20) { () -> [[Any]]? in
                let r = (try? influx.rows("SELECT value FROM cpu_usage_total WHERE container_name = '\(busy)'")) ?? []
                return r.count >= 4 ? r : nil
            }
            let rows = try #require(points, "cpu_usage_total points of the busy cgroup")
            let values = rows.compactMap { Self.int($0.last) }
            #expect(values == values.sorted() && values.count == rows.count, "\(values)")
            #expect(values.last! - values.first! > 500_000_000, "the busy cgroup's CPU counter rises: \(values)")
            // Each of the three cgroups, each of cAdvisor's measurements, with its tags.
            for cg in work.cgroups {
                for m in ["cpu_usage_total", "cpu_usage_system", "cpu_usage_user", "load_average", "memory_usage",
                          "memory_working_set", "rx_bytes", "rx_errors", "tx_bytes", "tx_errors"] {
                    #expect(try !influx.rows("SELECT value FROM \(m) WHERE container_name = '\(cg.name)' AND machine = '\(Self.hostname)'").isEmpty, "\(m) of \(cg.name)")
                }
                let memory = try influx.rows("SELECT last(value) FROM memory_usage WHERE container_name = '\(cg.name)'")
                #expect((Self.int(memory.first?.last) ?? 0) > 0, "memory_usage of \(cg.name)")
            }
            let perCPU = try influx.rows("SHOW TAG VALUES FROM cpu_usage_per_cpu WITH KEY = instance WHERE container_name = '\(busy)'")
            if HostCgroups.hasV1Controllers { #expect(!perCPU.isEmpty, "per-CPU points with an instance tag (v1)") }
            // The agent's own view: sent, nothing dropped, a line in /validate/.
            #expect(try (Self.counter(agent, "node_metrics_storage_sent_samples_total", driver: "influxdb") ?? 0) > 0)
            #expect(try Self.counter(agent, "node_metrics_storage_dropped_samples_total", driver: "influxdb") == 0)
            #expect(try Self.counter(agent, "node_metrics_storage_send_errors_total", driver: "influxdb") == 0)
            #expect(try Self.counter(agent, "node_metrics_storage_buffered_samples", driver: "influxdb") != nil)
            let report = try agent.get("/validate/").body
            #expect(report.contains("Storage drivers: [all sending]") && report.contains("\tinfluxdb: http://127.0.0.1:\(influx.port) db cadvisor; sent "), "\(report.suffix(600))")
            let refusals = agent.stopAndCollectSandboxRefusals() // the HTTP writes inside the sandbox
            #expect(refusals.isEmpty, "\(refusals)")
        }

        /// `-storage_driver_secure` end to end: influxd serving HTTPS only with a test CA's certificate,
        /// the agent trusting that CA through `-storage_driver_ca_file`; the points are queried back over
        /// https. Trusting another CA instead, every write fails the certificate check: send errors are
        /// counted, nothing is sent, the log names the certificate failure, and the agent stays up.
        @Test func influxdbOverHTTPS() throws {
            let pki = try TestPKI()
            let influx = try RunningInfluxDB(https: (pki.file("server.pem"), pki.file("server.key"), pki.file("ca.pem")))
            try influx.execute("CREATE DATABASE cadvisor")
            let plain = try? LoopbackHTTP.request(port: influx.port, "GET /ping HTTP/1.0\r\n\r\n")
            #expect(plain == nil || plain?.status == 400, "influxd serves no plain HTTP") // Go's answer to HTTP on a TLS port
            let work = try Workload()
            defer { work.destroy() }
            let host = "-storage_driver_host=127.0.0.1:\(influx.port)"
            let agent = try Self.agent(["-storage_driver=influxdb", host, "-storage_driver_secure", "-storage_driver_ca_file=\(pki.file("ca.pem"))"])
            defer { agent.child.stop() }
            let busy = work.busy.name
            let points = eventually(20) { () -> [[Any]]? in
                let r = (try? influx.rows("SELECT value FROM cpu_usage_total WHERE container_name = '\(busy)'")) ?? []
                return r.count >= 3 ? r : nil
            }
            let rows = try #require(points, "cpu_usage_total points of the busy cgroup, over https")
            let values = rows.compactMap { Self.int($0.last) }
            #expect(values == values.sorted() && values.count == rows.count, "\(values)")
            #expect(try (Self.counter(agent, "node_metrics_storage_sent_samples_total", driver: "influxdb") ?? 0) > 0)
            #expect(try Self.counter(agent, "node_metrics_storage_send_errors_total", driver: "influxdb") == 0)
            let report = try agent.get("/validate/").body
            #expect(report.contains("\tinfluxdb: https://127.0.0.1:\(influx.port) db cadvisor; sent "), "\(report.suffix(600))")
            let refusals = agent.stopAndCollectSandboxRefusals()
            #expect(refusals.isEmpty, "\(refusals)")

            // A CA that did not sign influxd's certificate: refused at the handshake, counted, logged.
            let untrusting = try Self.agent(["-storage_driver=influxdb", host, "-storage_driver_secure", "-storage_driver_ca_file=\(pki.file("other-ca.pem"))"])
            defer { untrusting.child.stop() }
            let errors = eventually(20) { () -> Double? in
                let n = (try? Self.counter(untrusting, "node_metrics_storage_send_errors_total", driver: "influxdb")) ?? 0
                return n >= 2 ? n : nil
            }
            #expect(errors != nil, "send errors counted")
            #expect(try Self.counter(untrusting, "node_metrics_storage_sent_samples_total", driver: "influxdb") == 0)
            let health = try untrusting.get("/healthz").status
            #expect(untrusting.child.process.isRunning && health == 200, "the agent stays up")
            let failing = try untrusting.get("/validate/").body
            #expect(failing.contains("\tinfluxdb: https://127.0.0.1:\(influx.port) db cadvisor;"), "\(failing.suffix(600))")
            untrusting.child.stop()
            let log = untrusting.child.log
            let line = log.split(separator: "\n").first { $0.contains("influxdb") && $0.lowercased().contains("certificate") }
            #expect(line != nil, "a log line naming the certificate failure: \(log.suffix(1500))")
        }

        /// A `-storage_driver_ca_file` that is not a PEM CA stops start-up naming the file.
        @Test func storageCAFileThatIsNotACertificateStopsStartUp() throws {
            let dir = try TemporaryDirectory()
            try "not a certificate".write(toFile: dir.file("ca.pem"), atomically: true, encoding: .utf8)
            let r = try run(Package.root + "/.build/debug/node-metrics",
                            ["-port=\(Int.random(in: 20000...60000))", "-listen_ip=127.0.0.1", "-storage_driver=influxdb",
                             "-storage_driver_secure", "-storage_driver_ca_file=\(dir.file("ca.pem"))"])
            #expect(r.status != 0)
            #expect(r.output.contains("\(dir.file("ca.pem")): not a PEM CA certificate"), "\(r.output.suffix(800))")
        }

        /// The backend down for 10 s: the agent goes on sampling, retries, and delivers the samples of
        /// the outage once the backend is back; with a buffer shorter than the outage it drops and counts.
        @Test(arguments: [false, true]) func influxdbOutage(smallBuffer: Bool) throws {
            let influx = try RunningInfluxDB()
            try influx.execute("CREATE DATABASE cadvisor")
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=influxdb", "-storage_driver_host=127.0.0.1:\(influx.port)",
                                        "-storage_driver_buffer_duration=\(smallBuffer ? "3s" : "60s")"])
            defer { agent.child.stop() }
            let busy = work.busy.name
            let query = "SELECT value FROM cpu_usage_total WHERE container_name = '\(busy)'"
            #expect(eventually(20) { ((try? influx.rows(query)) ?? []).count >= 2 ? true : nil } != nil)
            influx.stop()
            let down = Clocks.wallNanos()
            Thread.sleep(forTimeInterval: 10)
            let up = Clocks.wallNanos()
            // Sampling went on: the agent's own history of the busy cgroup covers the outage.
            let stats = try agent.get("/api/v2.0/stats\(busy)?count=20&type=name").body
            #expect(stats.contains("\"cpu\""), "sampling on during the outage")
            #expect(agent.child.process.isRunning)
            #expect(try (Self.counter(agent, "node_metrics_storage_send_errors_total", driver: "influxdb") ?? 0) > 0)
            let buffered = try Self.counter(agent, "node_metrics_storage_buffered_samples", driver: "influxdb") ?? 0
            #expect(buffered > 0)
            try influx.start()
            let inOutage = "SELECT value FROM cpu_usage_total WHERE container_name = '\(busy)' AND time >= \(down) AND time < \(up)"
            if smallBuffer {
                // What was older than 3 s when the backend came back was dropped, and counted.
                Thread.sleep(forTimeInterval: 5)
                let delivered = try influx.rows(inOutage).count
                #expect(delivered <= 5, "only the last seconds of a 10 s outage fit a 3 s buffer: \(delivered)")
                #expect(try (Self.counter(agent, "node_metrics_storage_dropped_samples_total", driver: "influxdb") ?? 0) > 0)
            } else {
                let delivered = eventually(20) { () -> Int? in
                    let n = (try? influx.rows(inOutage).count) ?? 0
                    return n >= 8 ? n : nil
                }
                #expect(delivered != nil, "the samples of a 10 s outage arrive after it: \((try? influx.rows(inOutage).count) ?? -1)")
                #expect(try Self.counter(agent, "node_metrics_storage_dropped_samples_total", driver: "influxdb") == 0)
                let values = try influx.rows(query).compactMap { Self.int($0.last) }
                #expect(values == values.sorted(), "in order")
            }
            // New samples keep arriving after the restart.
            let after = Clocks.wallNanos()
            #expect(eventually(10) { ((try? influx.rows("\(query) AND time > \(after)")) ?? []).count >= 2 ? true : nil } != nil)
        }

        // MARK: redis

        @Test func redisGetsCAdvisorsDocuments() throws {
            let redis = try RunningRedis()
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=redis", "-storage_driver_host=127.0.0.1:\(redis.port)"])
            defer { agent.child.stop() }
            let busy = work.busy.name
            let docs = eventually(20) { () -> [[String: Any]]? in
                let d = ((try? redis.documents()) ?? []).filter { $0["container_Name"] as? String == busy }
                return d.count >= 4 ? d : nil
            }
            let mine = try #require(docs, "documents of the busy cgroup")
            for d in mine {
                #expect(d["machine_name"] as? String == Self.hostname)
                #expect(Set(d.keys) == ["timestamp", "machine_name", "container_Name", "container_stats"])
            }
            // LPUSH: newest first.
            let totals = mine.reversed().compactMap { (($0["container_stats"] as? [String: Any])?["cpu"] as? [String: Any])
                .flatMap { ($0["usage"] as? [String: Any])?["total"] }.flatMap(Self.int) }
            #expect(totals.count == mine.count && totals == totals.sorted(), "\(totals)")
            #expect(totals.last! - totals.first! > 500_000_000, "the busy cgroup's CPU counter rises")
            let stamps = mine.compactMap { Self.int($0["timestamp"]) }
            #expect(stamps.allSatisfy { abs($0 - Clocks.wallNanos() / 1000) < 120_000_000 }, "µs since the epoch")
            let all = try redis.documents()
            for cg in work.cgroups {
                let d = all.first { $0["container_Name"] as? String == cg.name }
                let memory = ((d?["container_stats"] as? [String: Any])?["memory"] as? [String: Any])?["usage"]
                #expect((Self.int(memory) ?? 0) > 0, "memory usage of \(cg.name)")
            }
            #expect(try (Self.counter(agent, "node_metrics_storage_sent_samples_total", driver: "redis") ?? 0) > 0)
            #expect(try agent.get("/validate/").body.contains("\tredis: redis://127.0.0.1:\(redis.port) list cadvisor; sent "))
            let refusals = agent.stopAndCollectSandboxRefusals()
            #expect(refusals.isEmpty, "\(refusals)")
        }

        @Test(arguments: [false, true]) func redisOutage(smallBuffer: Bool) throws {
            let redis = try RunningRedis()
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=redis", "-storage_driver_host=127.0.0.1:\(redis.port)",
                                        "-storage_driver_buffer_duration=\(smallBuffer ? "3s" : "60s")"])
            defer { agent.child.stop() }
            let busy = work.busy.name
            func busyDocs() -> [[String: Any]] { ((try? redis.documents()) ?? []).filter { $0["container_Name"] as? String == busy } }
            #expect(eventually(20) { busyDocs().count >= 2 ? true : nil } != nil)
            redis.stop()
            let down = Clocks.wallNanos() / 1000
            Thread.sleep(forTimeInterval: 10)
            let up = Clocks.wallNanos() / 1000
            #expect(agent.child.process.isRunning)
            #expect(try (Self.counter(agent, "node_metrics_storage_send_errors_total", driver: "redis") ?? 0) > 0)
            try redis.start() // empty: nothing was persisted
            func inOutage() -> Int { busyDocs().filter { (Self.int($0["timestamp"]) ?? 0) >= down && (Self.int($0["timestamp"]) ?? 0) < up }.count }
            if smallBuffer {
                Thread.sleep(forTimeInterval: 5)
                #expect(inOutage() <= 5, "only the last seconds of a 10 s outage fit a 3 s buffer: \(inOutage())")
                #expect(try (Self.counter(agent, "node_metrics_storage_dropped_samples_total", driver: "redis") ?? 0) > 0)
            } else {
                #expect(eventually(20) { inOutage() >= 8 ? true : nil } != nil, "the outage's samples arrive: \(inOutage())")
                #expect(try Self.counter(agent, "node_metrics_storage_dropped_samples_total", driver: "redis") == 0)
            }
            let after = Clocks.wallNanos() / 1000
            #expect(eventually(10) { busyDocs().filter { (Self.int($0["timestamp"]) ?? 0) > after }.count >= 2 ? true : nil } != nil)
        }

        // MARK: statsd, stdout

        @Test func statsdGetsCAdvisorsGauges() throws {
            let listener = try UDPListener()
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=statsd", "-storage_driver_host=127.0.0.1:\(listener.port)",
                                        "-storage_driver_db=nm"])
            defer { agent.child.stop() }
            let packets = listener.receive(for: 4)
            #expect(packets.allSatisfy { $0.utf8.count <= StorageOptions.defaultStatsdPacketSize }, "\(packets.map(\.utf8.count).max() ?? 0)")
            let lines = packets.flatMap { $0.split(separator: "\n").map(String.init) }
            #expect(packets.count * 10 < lines.count, "lines packed: \(packets.count) datagrams, \(lines.count) lines")
            let busy = work.busy.name
            let cpu = lines.filter { $0.hasPrefix("nm.\(busy).cpu_cumulative_usage:") }
            #expect(cpu.count >= 2, "\(lines.prefix(5))")
            let values = cpu.compactMap { UInt64($0.dropFirst("nm.\(busy).cpu_cumulative_usage:".count).dropLast(2)) }
            #expect(cpu.allSatisfy { $0.hasSuffix("|g") } && values.count == cpu.count)
            #expect(values == values.sorted() && values.last! - values.first! > 500_000_000, "\(values)")
            for cg in work.cgroups {
                for key in ["cpu_usage_system", "cpu_usage_user", "cpu_load_average", "memory_usage", "memory_working_set",
                            "memory_rss", "memory_mapped_file", "rx_bytes", "tx_errors", "fs_summary.fs_usage"] {
                    #expect(lines.contains { $0.hasPrefix("nm.\(cg.name).\(key):") && $0.hasSuffix("|g") }, "\(key) of \(cg.name)")
                }
            }
            #expect(!lines.contains { $0.contains("timestamp") })
        }

        @Test func stdoutPrintsCAdvisorsLinesAndFlushesOnSIGTERM() throws {
            let dir = try TemporaryDirectory()
            let out = dir.file("stdout.txt")
            let work = try Workload()
            defer { work.destroy() }
            let agent = try Self.agent(["-storage_driver=stdout", "-storage_driver_host=sink:1"],
                                       launcher: ["/bin/sh", "-c", "exec \"$@\" > '\(out)'", "sh"])
            Thread.sleep(forTimeInterval: 3.5)
            agent.child.stop()
            #expect(agent.child.process.terminationStatus == 0, "\(agent.child.log.suffix(1000))")
            let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
            let busy = lines.filter { $0.hasPrefix("cName=\(work.busy.name) host=sink:1 timestamp=") }
            #expect(busy.count >= 3, "\(lines.prefix(3))")
            func field(_ line: Substring, _ key: String) -> UInt64? {
                line.split(separator: " ").first { $0.hasPrefix(key + "=") }.flatMap { UInt64($0.dropFirst(key.count + 1)) }
            }
            let cpu = busy.compactMap { field($0, "cpu_cumulative_usage") }
            #expect(cpu.count == busy.count && cpu == cpu.sorted() && cpu.last! - cpu.first! > 500_000_000, "\(cpu)")
            for cg in work.cgroups {
                let line = try #require(lines.last { $0.hasPrefix("cName=\(cg.name) ") })
                for key in ["memory_usage", "memory_working_set", "rx_bytes", "rx_errors", "tx_bytes", "tx_errors",
                            "fs_summary.fs_limit", "fs_summary.fs_usage"] {
                    #expect(field(line, key) != nil, "\(key) in \(line)")
                }
                #expect((field(line, "memory_usage") ?? 0) > 0)
            }
        }

        // MARK: bad flags

        @Test func badStorageFlagsStopStartUpNamingThem() throws {
            let agent = Package.root + "/.build/debug/node-metrics"
            let cases: [([String], String)] = [
                (["-storage_driver=nosuch"], "unknown backend storage driver \"nosuch\""),
                (["-storage_driver=stdout, statsd"], "\" statsd\""),
                (["-storage_driver=bigquery", "-bq_account=a@b", "-bq_credentials_file=/k.pem"], "-bq_project_id is required"),
                (["-storage_driver=kafka", "-storage_driver_kafka_ssl_ca=/ca.pem"], "-storage_driver_kafka_ssl_cert, _ssl_key and _ssl_ca"),
                (["-storage_driver=elasticsearch", "-storage_driver_es_host=localhost:9200"], "localhost:9200: not an http"),
                (["-storage_driver=influxdb", "-storage_driver_host=localhost"], "-storage_driver_host=localhost"),
                (["-storage_driver=redis", "-storage_driver_host=h:99999"], "-storage_driver_host=h:99999"),
                (["-storage_driver=influxdb", "-storage_driver_password_file=/nonexistent/pw"], "-storage_driver_password_file: cannot read /nonexistent/pw"),
                (["-storage_driver=influxdb", "-storage_driver_buffer_duration=soon"], "-storage_driver_buffer_duration"),
                (["-storage_driver=statsd", "-storage_driver_statsd_packet_size=70000"], "-storage_driver_statsd_packet_size must be 0"),
            ]
            for (flags, message) in cases {
                let r = try run(agent, ["-port=\(Int.random(in: 20000...60000))", "-listen_ip=127.0.0.1"] + flags)
                #expect(r.status != 0, "\(flags)")
                #expect(r.output.contains(message), "\(flags): \(r.output.suffix(800))")
            }
        }
    }
}
