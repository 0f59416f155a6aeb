import Foundation
import Testing
@testable import NodeMetrics

/// Serves recorded HTTP responses on a unix socket, as a runtime daemon would (CRI-O here: no package
/// for it exists on Debian 12). `routes` maps a request path to (status, body); `raw` maps a path to a
/// whole response sent as it is (a malformed one); anything else is 404.
final class RecordedUnixServer: @unchecked Sendable {
    let path: String
    private let fd: Int32
    private let routes: [String: (Int, String)]
    private let raw: [String: String]
    private var thread: Thread?

    init(path: String, routes: [String: (Int, String)], raw: [String: String] = [:]) throws {
        self.path = path
        self.routes = routes
        self.raw = raw
        unlink(path)
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.utf8.prefix(raw.count - 1).enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else { throw TestFailure("cannot listen on \(path)") }
        let t = Thread { [self] in serve() }
        t.start()
        thread = t
    }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { // shut down by stop(): only now is the descriptor closed, so its number
                close(fd)   // cannot be reused by another test's socket while this thread still accepts
                return
            }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !request.suffix(4).elementsEqual("\r\n\r\n".utf8) {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                request += buffer[0..<n]
            }
            let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
            let target = line.count > 1 ? String(line[1]) : ""
            let (status, body) = routes[target] ?? (404, "can't find the container with id \(target.split(separator: "/").last ?? "")")
            let response = raw[target] ?? "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
            _ = response.withCString { write(client, $0, strlen($0)) }
            close(client)
        }
    }

    private var stopped = false

    /// Closes the socket (once: a second call does nothing).
    func stop() {
        guard !stopped else { return }
        stopped = true
        shutdown(fd, Int32(SHUT_RDWR)) // wakes accept(2); the serving thread closes the descriptor
        unlink(path)
    }
}

/// CRI-O against recorded responses (Fixtures/crio): the client, and the agent naming a real cgroup
/// laid out as the kubelet does with CRI-O and the cgroupfs driver.
@Suite struct CRIOTests {
    static let uid = "5f8e2a4c-1b7d-4e2a-9c3f-7a6b5d4c3e21"
    static let id = "9a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9"

    func server(_ dir: TemporaryDirectory, extra: [String: (Int, String)] = [:]) throws -> RecordedUnixServer {
        var routes: [String: (Int, String)] = [
            "/info": (200, try Fixtures.text("crio/info.json")),
            "/containers/\(Self.id)": (200, try Fixtures.text("crio/container.json")),
        ]
        routes.merge(extra) { $1 }
        return try RecordedUnixServer(path: dir.file("crio.sock"), routes: routes)
    }

    @Test func clientReadsInfoAndContainers() throws {
        let dir = try TemporaryDirectory()
        let srv = try server(dir, extra: ["/containers/bad": (200, "{\"name\": 5"), "/containers/boom": (500, "internal")])
        defer { srv.stop() }
        let client = CRIOClient(socketPath: srv.path)
        let info = try client.info()
        #expect(info.driver == "overlay" && info.root == "/var/lib/containers/storage" && info.cgroupDriver == "cgroupfs")
        let m = try #require(try client.metadata(id: Self.id, envWhitelist: ["PATH"]))
        #expect(m.aliases == ["k8s_app_web-0_shop_\(Self.uid)_0", Self.id], "cAdvisor's crio aliases: [name, id]")
        #expect(m.namespace == "crio" && m.runtime == "crio")
        #expect(m.image == "quay.io/example/web:1.4")
        #expect(m.podName == "web-0" && m.podNamespace == "shop" && m.podUID == Self.uid && m.containerName == "app")
        #expect(m.createdNanos == 1_763_800_000_123_456_789)
        #expect(m.env.isEmpty, "CRI-O's inspect API has no environment")
        #expect(try client.metadata(id: String(repeating: "0", count: 64), envWhitelist: []) == nil, "404: not CRI-O's")
        #expect(throws: UnixHTTPClient.Failure.self) { try client.metadata(id: "bad", envWhitelist: []) }
        #expect(throws: UnixHTTPClient.Failure.self) { try client.metadata(id: "boom", envWhitelist: []) }
        srv.stop()
        #expect(throws: UnixHTTPClient.Failure.self) { try client.info() }
    }

    @Test func agentNamesACRIOCgroup() throws {
        let dir = try TemporaryDirectory()
        let srv = try server(dir)
        defer { srv.stop() }
        let layout = try CgroupLayout.detect()
        let pod = "/kubepods/burstable/pod\(Self.uid)"
        let name = "\(pod)/crio-\(Self.id)"
        let roots = layout.mountPoints.filter { $0.key != .cpuset }.values.sorted()
        for root in roots { try FileManager.default.createDirectory(atPath: root + name, withIntermediateDirectories: true) }
        defer {
            for root in roots { for d in [name, pod, "/kubepods/burstable", "/kubepods"] { rmdir(root + d) } }
        }
        let agent = try RunningAgent(["-crio=unix://\(srv.path)", "-docker=", "-containerd=", "-prometheus_labels=kubernetes"])
        defer { agent.child.stop() }
        var info: [String: Any]?
        let deadline = Date().addingTimeInterval(15)
        repeat {
            usleep(200_000)
            let r = try agent.get("/api/v1.3/containers\(name)")
            info = r.status == 200 ? try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] : nil
        } while (info?["aliases"] as? [String]) == nil && Date() < deadline
        let i = try #require(info)
        #expect(i["aliases"] as? [String] == ["k8s_app_web-0_shop_\(Self.uid)_0", Self.id])
        #expect(i["namespace"] as? String == "crio")
        #expect((i["spec"] as? [String: Any])?["image"] as? String == "quay.io/example/web:1.4")
        let metrics = try agent.get("/metrics").body
        #expect(metrics.contains(#"container="app",id="\#(name)",image="quay.io/example/web:1.4",name="k8s_app_web-0_shop_\#(Self.uid)_0",namespace="shop",pod="web-0""#))
        #expect(metrics.contains(#"container="",id="\#(pod)",image="",name="",namespace="shop",pod="web-0""#))
    }
}
