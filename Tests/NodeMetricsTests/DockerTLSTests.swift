import Foundation
import Testing
@testable import NodeMetrics

/// `-docker=tcp://host:port` with `-docker-tls` (issue 15 part 4) against a real dockerd listening on
/// TCP with `--tlsverify`, certificates made by openssl here: a CA, the daemon's certificate for
/// 127.0.0.1, the agent's client certificate; and a second CA the daemon does not trust.
extension RuntimeDaemons {
@Suite(.serialized) struct DockerTLSTests {
    let state = "/tmp/node-metrics-docker-tls-test-\(getpid())"

    func sh(_ command: String) throws -> String {
        let r = try run("/bin/bash", ["-c", command])
        if r.status != 0 { throw TestFailure("\(command): \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// CA `name`-ca.pem, and certificates `<name>-server` (127.0.0.1, localhost) and `<name>-client` signed by it.
    func makeCertificates(_ dir: String, _ name: String) throws {
        _ = try sh("""
            set -e; cd \(dir)
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=\(name)-ca -keyout \(name)-ca-key.pem -out \(name)-ca.pem 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\nextendedKeyUsage=serverAuth\\n' > server.ext
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            for who in server client; do
              openssl req -newkey rsa:2048 -nodes -subj /CN=\(name)-$who -keyout \(name)-$who-key.pem -out $who.csr 2>/dev/null
              openssl x509 -req -in $who.csr -CA \(name)-ca.pem -CAkey \(name)-ca-key.pem -CAcreateserial -days 2 \
                -extfile $who.ext -out \(name)-$who.pem 2>/dev/null
            done
            """)
    }

    @Test func dockerOverTCPWithTLS() throws {
        let dir = try TemporaryDirectory()
        try makeCertificates(dir.path, "good")
        try makeCertificates(dir.path, "other")
        let port = Int.random(in: 20000...60000)
        let daemonArgs = "-H tcp://127.0.0.1:\(port) --tlsverify --tlscacert \(dir.file("good-ca.pem")) " +
            "--tlscert \(dir.file("good-server.pem")) --tlskey \(dir.file("good-server-key.pem"))"
        // A fresh daemon with the TLS listener (one left running by another test has none).
        _ = try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/docker-stop.sh"])
        let started = try run("/usr/bin/env", ["STATE=\(state)", "DOCKERD_ARGS=\(daemonArgs)", "bash",
                                               Package.root + "/scripts/runtimes/docker-start.sh"])
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/docker-stop.sh"]) }
        let listening = eventually(10) { (try? sh("curl -sf --cacert \(dir.file("good-ca.pem")) --cert \(dir.file("good-client.pem")) --key \(dir.file("good-client-key.pem")) https://127.0.0.1:\(port)/_ping")) == "OK" ? true : nil }
        try #require(listening == true, "dockerd serves TLS on \(port)")

        func tlsFlags(_ name: String) -> [String] {
            ["-docker=tcp://127.0.0.1:\(port)", "-docker-tls", "-docker-tls-cert=\(dir.file("\(name)-client.pem"))",
             "-docker-tls-key=\(dir.file("\(name)-client-key.pem"))", "-docker-tls-ca=\(dir.file("good-ca.pem"))"]
        }
        let agent = try RunningAgent(tlsFlags("good") + ["-docker_only", "-containerd=", "-podman=", "-crio="])
        defer { agent.child.stop() }
        let refused = try RunningAgent(tlsFlags("other") + ["-docker_only", "-containerd=", "-podman=", "-crio="])
        defer { refused.child.stop() }
        let plain = try RunningAgent(["-docker=tcp://127.0.0.1:\(port)", "-docker_only", "-containerd=", "-podman=", "-crio="])
        defer { plain.child.stop() }
        let othersStarted = ContinuousClock.now

        let name = "nm-tls-\(getpid())"
        let id = try sh("docker run -d --name \(name) --network none --label app=tls local/busybox:1 sleep 300")
        defer { _ = try? sh("docker rm -f \(name)") }
        let info = try eventually(30) { try agent.json("/api/v1.3/docker/\(name)")?["/docker/\(id)"] as? [String: Any] }
        #expect(info?["aliases"] as? [String] == [name, id], "metadata over TLS")
        #expect(((info?["spec"] as? [String: Any])?["labels"] as? [String: String])?["app"] == "tls")
        let version = try sh("docker version -f '{{.Server.Version}}'")
        #expect(try agent.get("/metrics").body.contains("dockerVersion=\"\(version)\""), "/version over TLS")
        // A renamed container shows through the event stream, over TLS too.
        _ = try sh("docker rename \(name) \(name)-renamed")
        let renamed = try eventually(20) {
            (try agent.json("/api/v1.3/containers/docker/\(id)")?["aliases"] as? [String])?.first == "\(name)-renamed" ? true : nil
        }
        #expect(renamed == true, "events over TLS")
        _ = try sh("docker rename \(name)-renamed \(name)")

        // A client certificate of another CA, or no TLS at all: no metadata, and a warning saying why.
        // Each asks Docker once at start; their logs can only be read after they stop, so they are
        // given 8 s from their start (one CI run, 2 cores busy, stopped them 2 s in, before it).
        let lived = ContinuousClock.now - othersStarted
        if lived < .seconds(8) { usleep(useconds_t((Duration.seconds(8) - lived).components.seconds * 1_000_000 + 100_000)) }
        #expect(try refused.json("/api/v1.3/containers/docker/\(id)")?["aliases"] == nil)
        #expect(try plain.json("/api/v1.3/containers/docker/\(id)")?["aliases"] == nil)
        agent.child.stop()
        refused.child.stop()
        plain.child.stop()
        let (good, bad, none) = (agent.child.log, refused.child.log, plain.child.log) // each readable once
        #expect(good.contains("connected to Docker") && good.contains("socket=tcp+tls://127.0.0.1:\(port)"), "\(good)")
        #expect(bad.contains("Docker not reachable"), "\(bad)")
        #expect(none.contains("Docker not reachable"), "\(none)")
    }
}
}
