import Foundation
import Testing
@testable import NodeMetrics

extension InotifyUsers {
    /// `node-metrics healthcheck` (the image's HEALTHCHECK, the chart's exec probes) against real
    /// agents: the listener's flags given, or read from the agent's command line, over HTTP and HTTPS.
    @Suite(.serialized) struct HealthcheckTests {
        let binary = Package.root + "/.build/debug/node-metrics"

        func healthcheck(_ arguments: [String]) throws -> (status: Int32, line: String, seconds: Double) {
            let start = Date()
            let r = try run(binary, ["healthcheck"] + arguments)
            let lines = r.output.split(separator: "\n")
            #expect(lines.count == 1, "one line: \(r.output)")
            return (r.status, lines.first.map(String.init) ?? "", Date().timeIntervalSince(start))
        }

        @Test func flagsGivenWithAURLBasePrefix() throws {
            let agent = try RunningAgent(["-url_base_prefix=/nm"], ready: {
                (try? LoopbackHTTP.get(port: $0, "/nm/healthz"))?.status == 200
            })
            defer { agent.child.stop() }
            let ok = try healthcheck(["-port=\(agent.port)", "-listen_ip=127.0.0.1", "-url_base_prefix=/nm", "-agent_pid=0"])
            #expect(ok.status == 0)
            #expect(ok.line == "healthy: http://127.0.0.1:\(agent.port)/nm/healthz answered 200: ok", "\(ok.line)")
            let noPrefix = try healthcheck(["-port=\(agent.port)", "-listen_ip=127.0.0.1", "-agent_pid=0"])
            #expect(noPrefix.status == 1)
            #expect(noPrefix.line.hasPrefix("unhealthy: http://127.0.0.1:\(agent.port)/healthz answered 404"), "\(noPrefix.line)")
        }

        @Test func flagsReadFromTheAgentsCommandLine() throws {
            let agent = try RunningAgent(["-url_base_prefix=/prefixed/"], ready: {
                (try? LoopbackHTTP.get(port: $0, "/prefixed/healthz"))?.status == 200
            })
            defer { agent.child.stop() }
            let ok = try healthcheck(["-agent_pid=\(agent.child.process.processIdentifier)"])
            #expect(ok.status == 0, "\(ok.line)")
            #expect(ok.line.hasPrefix("healthy: http://127.0.0.1:\(agent.port)/prefixed/healthz"), "\(ok.line)")
            // A process that is not node-metrics gives no defaults: the default port 8080.
            let other = try healthcheck(["-agent_pid=\(getpid())", "-port=\(agent.port)", "-url_base_prefix=/prefixed"])
            #expect(other.status == 0, "\(other.line)")
        }

        @Test func nobodyListeningFailsFastWithTheReason() throws {
            // A port nobody listens on: bound and closed again.
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
            _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
            let port = Int(UInt16(bigEndian: addr.sin_port))
            close(fd)
            let r = try healthcheck(["-port=\(port)", "-agent_pid=0", "-timeout=1s"])
            #expect(r.status == 1)
            #expect(r.line.hasPrefix("unhealthy: http://127.0.0.1:\(port)/healthz: "), "\(r.line)")
            #expect(r.seconds < 5)
            let bad = try run(binary, ["healthcheck", "-scheme=gopher"])
            #expect(bad.status != 0)
        }

        @Test func httpsWhenTheAgentServesTLS() throws {
            let pki = try TestPKI()
            let agent = try RunningAgent(["-tls_cert_file=\(pki.file("server.pem"))", "-tls_key_file=\(pki.file("server.key"))",
                                          "-tls_client_ca_file=\(pki.file("client-ca.pem"))"],
                                         ready: { pki.curl(port: $0, "/healthz") == 200 })
            defer { agent.child.stop() }
            let ok = try healthcheck(["-agent_pid=\(agent.child.process.processIdentifier)"])
            #expect(ok.status == 0, "\(ok.line)")
            #expect(ok.line.hasPrefix("healthy: https://127.0.0.1:\(agent.port)/healthz"), "\(ok.line)")
            let plain = try healthcheck(["-agent_pid=0", "-port=\(agent.port)", "-listen_ip=127.0.0.1", "-scheme=http"])
            #expect(plain.status == 1, "plain HTTP to a TLS listener: \(plain.line)")
        }
    }
}
