import Foundation
import Testing
@testable import NodeMetrics

extension InotifyUsers {
    /// Issue 12: the real daemon (seccomp sandbox on, as by default) given what used to kill it, slow
    /// requests in flight, more requests than an endpoint takes, failed samples, and a `kill -9`.
    @Suite(.serialized) struct ReliabilityTests {
        /// A /dev/disk/by-uuid entry made for a test and removed after (with the folders the test made).
        final class UUIDLink {
            let path: String
            private var madeFolders: [String] = []

            init(uuid: String, target: String) throws {
                for dir in ["/dev/disk", "/dev/disk/by-uuid"] where !FileManager.default.fileExists(atPath: dir) {
                    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: false)
                    madeFolders.append(dir)
                }
                path = "/dev/disk/by-uuid/" + uuid
                unlink(path)
                guard symlink(target, path) == 0 else { throw TestFailure("symlink \(path): errno \(errno)") }
            }

            func remove() {
                unlink(path)
                for dir in madeFolders.reversed() { rmdir(dir) }
            }
        }

        func post(_ agent: RunningAgent, _ path: String, _ body: String) throws -> (status: Int, headers: String, body: String) {
            try LoopbackHTTP.request(port: agent.port, "POST \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        }

        @Test func everyCrashInputAndItsClassIsA4xxAndTheAgentLives() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            let uuid = "nm-test-\(getpid())"
            let toRoot = try UUIDLink(uuid: uuid, target: "/")
            defer { toRoot.remove() }
            let cases: [(String, Int)] = [
                // A by-uuid link to "/" (the trap: the last component of its target was force-unwrapped).
                ("/api/v2.0/storage?uuid=\(uuid)", 404),
                // Names that climb out, are absolute, percent-encoded or hold a NUL: refused, never readlink'ed.
                ("/api/v2.0/storage?uuid=../../../proc/self/root", 400),
                ("/api/v2.0/storage?uuid=..%2F..%2F..%2Fproc%2Fself%2Froot", 400),
                ("/api/v2.0/storage?uuid=%2e%2e", 400), ("/api/v2.0/storage?uuid=..", 400),
                ("/api/v2.0/storage?uuid=/etc/passwd", 400), ("/api/v2.0/storage?uuid=%2Fetc%2Fpasswd", 400),
                ("/api/v2.0/storage?uuid=a%00b", 400), ("/api/v2.0/storage?uuid=", 400),
                ("/api/v2.0/stats/..%2F..%2Fetc", 400), ("/api/v2.0/ps/%2e%2e", 400), ("/api/v2.0/spec/a/%2E%2E/%2E%2E", 400),
                ("/api/v1.3/containers/a%00b", 400), ("/api/v2.1/stats/%00", 400), ("/containers/%2e%2e/x", 400),
                ("/docker/..", 400), ("/api/v1.3/subcontainers/..", 400),
                // Times outside what Int64 nanoseconds hold (the trap: an overflow in parseRFC3339).
                ("/api/v2.0/events?start_time=9999-12-31T23:59:59Z", 400), ("/api/v2.1/events?end_time=1600-01-01T00:00:00Z", 400),
                ("/api/v1.3/events?start_time=2263-01-01T00:00:00Z", 400),
                ("/api/v1.3/events?end_time=9999-12-31T23:59:59.999999999%2B14:00", 400),
                // Numbers past 2^64 and past Int.
                ("/api/v2.0/stats/?count=99999999999999999999999", 400), ("/api/v2.0/events?max_events=18446744073709551616", 400),
                ("/api/v2.0/stats/?max_age=99999999999999999999h", 400), ("/api/v2.0/stats/?max_age=9223372036s", 400),
                ("/metrics?max_age=-99999999999999999999s", 400),
            ]
            for (path, status) in cases {
                let r = try agent.get(path)
                #expect(r.status == status, "\(path): \(r.status) \(r.body)")
                #expect(agent.child.process.isRunning, "alive after \(path)")
            }
            // v1 JSON bodies: the same times and numbers.
            for body in [#"{"start":"9999-12-31T23:59:59Z"}"#, #"{"end":"1600-01-01T00:00:00Z"}"#,
                         #"{"num_stats":99999999999999999999999}"#, #"{"num_stats":1e300}"#, #"{"start":"0001-01-01T00:00:00Z"}"#] {
                let r = try post(agent, "/api/v1.3/containers/", body)
                #expect(r.status == 400, "\(body): \(r.status) \(r.body)")
            }
            #expect(try post(agent, "/api/v1.3/containers/", #"{"num_stats":-9223372036854775808}"#).status == 200)
            // A link to a real device still answers.
            if let root = (try? agent.get("/api/v2.0/storage?label=root"))?.body,
               let device = (try? JSONSerialization.jsonObject(with: Data(root.utf8)) as? [[String: Any]])?.first?["device"] as? String,
               device.hasPrefix("/dev/") {
                let good = try UUIDLink(uuid: uuid + "-ok", target: "../../" + device.dropFirst(5))
                defer { good.remove() }
                let r = try agent.get("/api/v2.0/storage?uuid=\(uuid)-ok")
                #expect(r.status == 200 && r.body.contains("\"device\":\"\(device)\""), "\(r.status) \(r.body)")
            }
            #expect(try agent.get("/healthz").status == 200)
            #expect(agent.child.process.isRunning)
        }

        /// Five clients keep the slow endpoints busy; `/healthz` and `/metrics` keep answering (checked
        /// as "answers while slow requests are in flight", not by timing).
        @Test func healthAndMetricsAnswerWhileSlowRequestsAreInFlight() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            let stop = SharedValue(false)
            let slowDone = SharedValue(0)
            let group = DispatchGroup()
            let port = agent.port
            for i in 0..<5 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    let path = i % 2 == 0 ? "/api/v2.0/ps/" : "/api/v2.0/stats?recursive=true&count=60"
                    while !stop.value {
                        if let r = try? LoopbackHTTP.get(port: port, path), r.status == 200 || r.status == 503 { slowDone.add(1) }
                    }
                }
            }
            defer {
                stop.set(true)
                group.wait()
            }
            while slowDone.value < 5 { usleep(10_000) }
            for _ in 0..<20 {
                #expect(try agent.get("/healthz").status == 200)
                #expect(try agent.get("/metrics").status == 200)
            }
            #expect(agent.child.process.isRunning)
        }

        /// Twenty scrapers at once: each gets a whole exposition (concurrent scrapes of one URL share
        /// a rendering; none may get another's half or an error).
        @Test func concurrentScrapesEachGetAWholeExposition() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            let port = agent.port
            let results = SharedValue<[(Int, Bool)]>([])
            let group = DispatchGroup()
            for _ in 0..<20 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    let r = try? LoopbackHTTP.get(port: port, "/metrics")
                    let whole = r.map { $0.body.contains("# TYPE container_cpu_usage_seconds_total counter")
                        && $0.body.hasSuffix("\n") && $0.body.contains("process_start_time_seconds ") } ?? false
                    results.mutate { $0.append((r?.status ?? 0, whole)) }
                }
            }
            group.wait()
            #expect(results.value.count == 20)
            #expect(results.value.allSatisfy { $0.0 == 200 && $0.1 }, "\(results.value)")
        }

        /// More event streams than the limit: the extra one is a 503 with Retry-After; closing one
        /// frees its place.
        @Test func anEndpointAtItsLimitAnswers503WithRetryAfter() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            var streams: [Int32] = []
            defer { streams.forEach { close($0) } }
            let limit = ServingLimits().eventStreams
            func openStream() throws -> (fd: Int32, head: String) {
                let fd = try LoopbackHTTP.connect(port: agent.port, timeout: 5_000_000)
                let request = "GET /api/v2.0/events?stream=true&all_events=true HTTP/1.1\r\nHost: x\r\n\r\n"
                _ = request.withCString { send(fd, $0, strlen($0), 0) }
                var buffer = [UInt8](repeating: 0, count: 4096)
                let n = recv(fd, &buffer, buffer.count, 0)
                return (fd, n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : "")
            }
            for i in 0..<limit {
                let s = try openStream()
                streams.append(s.fd)
                #expect(s.head.hasPrefix("HTTP/1.1 200"), "stream \(i): \(s.head.prefix(80))")
            }
            let refused = try openStream()
            streams.append(refused.fd)
            #expect(refused.head.hasPrefix("HTTP/1.1 503"), "\(refused.head.prefix(200))")
            #expect(refused.head.lowercased().contains("retry-after: 1"), "\(refused.head)")
            #expect(refused.head.contains("event streams"))
            // Other endpoints are not affected; a closed stream frees its place.
            #expect(try agent.get("/api/v2.0/version").status == 200)
            close(streams.removeFirst())
            var freed = false
            for _ in 0..<50 where !freed {
                usleep(50_000)
                let s = try openStream()
                streams.append(s.fd)
                freed = s.head.hasPrefix("HTTP/1.1 200")
            }
            #expect(freed)
        }

        /// A client that sends half a request and stalls is closed after the request timeout (10 s),
        /// well before the 60 s idle timeout.
        @Test func aHalfSentRequestIsClosedAfterTheRequestTimeout() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            let fd = try LoopbackHTTP.connect(port: agent.port, timeout: 30_000_000)
            defer { close(fd) }
            let start = Date()
            _ = "GET /healthz HTTP/1.1\r\nHost: x\r\n".withCString { send(fd, $0, strlen($0), 0) }
            var byte: UInt8 = 0
            let n = recv(fd, &byte, 1, 0)
            let waited = Date().timeIntervalSince(start)
            #expect(n == 0, "closed by the server")
            #expect(waited >= 9 && waited < 30, "after \(waited) s")
        }

        /// v1: a cgroup whose memory hierarchy directory is removed while it stays in the others: its
        /// next sample fails mid-read (the file is gone), `container_scrape_error` flips to 1 and the
        /// failure is counted by reason.
        @Test(.enabled(if: HostCgroups.hasV1Controllers))
        func v1ASampleThatFailsMidReadSetsContainerScrapeError() throws {
            let layout = try CgroupLayout.detect()
            #expect(layout.mountPoints[.memory] != nil && layout.mountPoints[.cpu] != nil, "v1 memory and cpu hierarchies")
            let agent = try RunningAgent(["-housekeeping_interval=200ms"])
            defer { agent.child.stop() }
            func scrape() throws -> String { try agent.get("/metrics").body }
            #expect(try scrape().contains("container_scrape_error 0\n"))
            let cg = try LiveCgroup(layout: layout)
            defer { cg.destroy() }
            // Sampled with its memory hierarchy: the agent may have opened the cgroup before the test
            // made its memory directory, and adopts that directory at a later sample.
            #expect(eventually { (try? agent.get("/api/v2.0/spec\(cg.name)"))?.body.contains("\"has_memory\":true") == true ? true : nil } != nil,
                    "the cgroup is sampled with its memory hierarchy")
            let memoryDirectory = try cg.directory(.memory)
            #expect(rmdir(memoryDirectory) == 0, "rmdir \(memoryDirectory): \(errno)")
            #expect(eventually { (try? scrape())?.contains("container_scrape_error 1\n") == true ? true : nil } != nil,
                    "the failure is seen")
            let text = try scrape()
            #expect(text.contains("node_metrics_container_sample_failures_total{reason=\"gone\"} "), "\(text.suffix(600))")
            #expect(!text.contains("node_metrics_container_sample_failures_total{reason=\"gone\"} 0\n"))
            let report = try agent.get("/validate/").body
            #expect(report.contains("Sampling failures:") && report.contains("gone: "), "\(report)")
            #expect(agent.child.process.isRunning)
        }

        /// `kill -9`, then a new agent: /healthz is 200 only once every cgroup is known.
        @Test func afterKill9TheNewAgentKnowsEveryCgroupWhenItSaysReady() throws {
            let layout = try CgroupLayout.detect()
            var cgroups: [LiveCgroup] = []
            defer { cgroups.forEach { $0.destroy() } }
            for _ in 0..<20 { cgroups.append(try LiveCgroup(layout: layout)) }
            let first = try RunningAgent()
            kill(first.child.process.processIdentifier, SIGKILL)
            first.child.process.waitUntilExit()
            #expect(first.child.process.terminationReason == .uncaughtSignal)
            let started = Date()
            let second = try RunningAgent()
            defer { second.child.stop() }
            let ready = Date().timeIntervalSince(started)
            // Ready means complete: the first answer after it lists every one of the test's cgroups.
            let body = try second.get("/api/v2.0/spec/?recursive=true").body
            let known = (try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:]
            let missing = cgroups.map(\.name).filter { known[$0] == nil }
            #expect(missing.isEmpty, "not known when ready: \(missing)")
            print("ReliabilityTests: restarted agent ready after \(String(format: "%.2f", ready)) s with \(known.count) containers")
        }
    }
}

/// A value shared by the test's threads.
final class SharedValue<Value: Sendable>: @unchecked Sendable {
    private var stored: Value
    private let lock = NSLock()
    init(_ value: Value) { stored = value }
    var value: Value { lock.withLock { stored } }
    func set(_ value: Value) { lock.withLock { stored = value } }
}

extension SharedValue where Value == Int {
    func add(_ n: Int) { lock.withLock { stored += n } }
}

extension SharedValue {
    func mutate(_ body: (inout Value) -> Void) { lock.withLock { body(&stored) } }
}
