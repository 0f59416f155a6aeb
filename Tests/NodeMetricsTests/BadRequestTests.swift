import Foundation
import Testing
@testable import NodeMetrics

extension InotifyUsers {
    /// Bad requests against the real daemon: a 4xx or a closed connection, never a 5xx, a hang or a crash.
    @Suite(.serialized) struct BadRequestTests {
        @Test func badParametersAndPathsAre4xx() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            usleep(700_000)
            let cases: [(String, Int)] = [
                ("/api/v9.9/machine", 400), ("/api/v2.0/nonsense", 400), ("/api/v1.3/nonsense/", 400),
                ("/api/v2.0/stats/?count=-5", 400), ("/api/v2.0/stats/?count=abc", 400), ("/api/v2.0/stats/?max_age=abc", 400),
                ("/api/v2.0/stats/?type=lxc", 400), ("/api/v2.0/events/?start_time=yesterday", 400),
                ("/api/v2.0/events/?max_events=many", 400), ("/api/v1.3/containers/a/../../../etc", 400),
                ("/api/v1.3/containers/%2e%2e/%2e%2e/etc", 400), ("/api/v2.0/stats/no/such/container", 404),
                ("/metrics?max_age=abc", 400), ("/metrics?type=lxc", 400), ("/metrics?selector=a%20in%20(b", 400),
                ("/nowhere", 404), ("/containers/no/such", 404),
            ]
            for (path, status) in cases {
                let r = try agent.get(path)
                #expect(r.status == status, "\(path): \(r.status) \(r.body)")
            }
            // v1's JSON body: garbage is a 400.
            let body = "{not json"
            let r = try LoopbackHTTP.request(port: agent.port, "POST /api/v1.3/containers/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            #expect(r.status == 400)
            #expect(agent.child.process.isRunning)
        }

        @Test func malformedOversizedAndSlowClients() throws {
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            // Headers far past NIO's limit: refused and closed.
            let huge = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 200_000))\r\n\r\n"
            let big = try LoopbackHTTP.request(port: agent.port, huge, finish: true, timeout: 3_000_000)
            #expect(big.status == 0 || (400..<500).contains(big.status), "\(big.status)")
            // A body over 1 MiB: 413.
            let over = try LoopbackHTTP.request(port: agent.port, "POST /api/v1.3/containers/ HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n" + String(repeating: "x", count: 2_000_000),
                                                finish: true, timeout: 3_000_000)
            #expect(over.status == 413 || over.status == 0, "\(over.status)")
            // Random garbage: 4xx or closed, never 5xx.
            var rng = SystemRandomNumberGenerator()
            for i in 0..<200 {
                var bytes = (0..<Int.random(in: 1...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if i % 2 == 0 { bytes = Array("GET /".utf8) + bytes + Array(" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8) }
                let r = try LoopbackHTTP.request(port: agent.port, String(decoding: bytes, as: UTF8.self), finish: true, timeout: 3_000_000)
                #expect(r.status < 500, "garbage \(i): \(r.status) \(r.body.prefix(200))")
            }
            // Slow clients (half a request line, then silence) do not stop others being served.
            var slow: [Int32] = []
            for _ in 0..<50 {
                let fd = try LoopbackHTTP.connect(port: agent.port)
                _ = "GET /heal".withCString { send(fd, $0, 9, 0) }
                slow.append(fd)
            }
            defer { slow.forEach { close($0) } }
            let start = Date()
            for _ in 0..<20 { #expect(try agent.get("/healthz").status == 200) }
            #expect(Date().timeIntervalSince(start) < 5, "served while 50 clients stall")
            #expect(agent.child.process.isRunning, "no crash")
        }
    }
}

extension InotifyUsers.RouterTests {
    @Test func maxAgeRefreshesStaleSamplesAndAppmetrics() throws {
        var c = ManagerConfiguration()
        c.housekeeping = HousekeepingPolicy(interval: .seconds(30), maxInterval: .seconds(60), dynamic: false)
        let slow = try ContainerManager(configuration: c)
        slow.start()
        defer { slow.stop() }
        let deadline = Date().addingTimeInterval(10)
        while slow.store.latest("/") == nil && Date() < deadline { usleep(50_000) }
        let first = try #require(slow.store.latest("/"))
        usleep(1_100_000)
        let router = APIRouter(manager: slow)
        _ = router.handle(HTTPRequest(uri: "/api/v2.0/stats/?count=1"))
        #expect(slow.store.snapshot("/")?.samples.count == 1, "no max_age: no refresh")
        let r = router.handle(HTTPRequest(uri: "/api/v2.0/stats/?count=1&max_age=500ms"))
        #expect(r.status == 200)
        let refreshed = try #require(slow.store.latest("/"))
        #expect(slow.store.snapshot("/")?.samples.count == 2)
        #expect(refreshed.timestampNanos > first.timestampNanos + 1_000_000_000)
        #expect(refreshed.cpu.usage.total >= first.cpu.usage.total)
        _ = router.handle(HTTPRequest(uri: "/api/v2.0/stats/?count=1&max_age=1m"))
        #expect(slow.store.snapshot("/")?.samples.count == 2, "fresh enough: no refresh")
        let apps = router.handle(HTTPRequest(uri: "/api/v2.0/appmetrics/"))
        #expect(apps.status == 200 && apps.bodyText == "{\"/\":{}}")
    }
}
