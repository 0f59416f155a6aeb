import Foundation
import Testing
@testable import NodeMetrics

/// Certificates made by the real openssl in a temporary directory: a server CA (`ca`) and its
/// server certificate for 127.0.0.1 (`server`), a client CA (`client-ca`) and its client certificate
/// (`client`), and a client certificate of a CA the agent does not trust (`stranger`).
final class TestPKI {
    let dir: TemporaryDirectory

    init() throws {
        dir = try TemporaryDirectory()
        for ca in ["ca", "client-ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                         "-keyout", file("\(ca).key"), "-out", file("\(ca).pem"), "-subj", "/CN=\(ca)"])
        }
        try issueServer(serial: "1001", newKey: true)
        try issue("client", by: "client-ca", serial: "2001", extensions: "extendedKeyUsage=clientAuth", newKey: true)
        try issue("stranger", by: "other-ca", serial: "3001", extensions: "extendedKeyUsage=clientAuth", newKey: true)
    }

    func file(_ name: String) -> String { dir.file(name) }

    func openssl(_ arguments: [String]) throws {
        let r = try run("/usr/bin/openssl", arguments)
        if r.status != 0 { throw TestFailure("openssl \(arguments.joined(separator: " ")): \(r.output)") }
    }

    /// The server certificate for 127.0.0.1 with this serial (hex), replacing server.pem at once.
    func issueServer(serial: String, newKey: Bool = false) throws {
        try issue("server", by: "ca", serial: serial,
                  extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth", newKey: newKey)
    }

    /// `<name>.pem` signed by `<ca>`, with `<name>.key` (new when `newKey`); files are replaced by rename.
    func issue(_ name: String, by ca: String, serial: String, extensions: String, newKey: Bool) throws {
        if newKey {
            try openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", file("\(name).key.new")])
            rename(file("\(name).key.new"), file("\(name).key"))
        }
        try openssl(["req", "-new", "-key", file("\(name).key"), "-subj", "/CN=\(name)", "-out", file("\(name).csr")])
        try extensions.write(toFile: file("\(name).ext"), atomically: true, encoding: .utf8)
        try openssl(["x509", "-req", "-in", file("\(name).csr"), "-CA", file("\(ca).pem"), "-CAkey", file("\(ca).key"),
                     "-set_serial", "0x" + serial, "-days", "2", "-extfile", file("\(name).ext"), "-out", file("\(name).pem.new")])
        rename(file("\(name).pem.new"), file("\(name).pem"))
    }

    /// The HTTP status of an HTTPS GET verified against `ca` (0: no response, e.g. a refused handshake).
    func curl(port: Int, _ path: String, _ extra: [String] = []) -> Int {
        let r = try? run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5",
                                           "--cacert", file("ca.pem")] + extra + ["https://127.0.0.1:\(port)\(path)"])
        return r.flatMap { Int($0.output) } ?? -1
    }

    /// The client's arguments for a certificate.
    func clientCertificate(_ name: String = "client") -> [String] { ["--cert", file("\(name).pem"), "--key", file("\(name).key")] }

    /// The serial number of the certificate the server on `port` presents, as openssl shows it.
    func servedSerial(port: Int) -> String? {
        let r = try? run("/bin/bash", ["-c", "/usr/bin/openssl s_client -connect 127.0.0.1:\(port) -CAfile \(file("ca.pem")) </dev/null 2>/dev/null | /usr/bin/openssl x509 -noout -serial"])
        guard let line = r?.output.split(separator: "\n").first(where: { $0.hasPrefix("serial=") }) else { return nil }
        return String(line.dropFirst("serial=".count))
    }
}

@Suite struct BearerTokenFileTests {
    func request(_ authorization: String?) -> HTTPRequest {
        HTTPRequest(uri: "/metrics", headers: authorization.map { [("Authorization", $0)] } ?? [])
    }

    @Test func tokensWithAndWithoutUsers() throws {
        let dir = try TemporaryDirectory()
        try "# scrapers\n\nalpha-token\n  beta-token , bob \ngamma,carol,1001,\"group1,group2\"\n"
            .write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
        let tokens = try BearerTokens(path: dir.file("tokens"))
        #expect(tokens.tokenCount == 3)
        #expect(tokens.user(request("Bearer alpha-token")) == "")
        #expect(tokens.user(request("bearer beta-token")) == "bob", "the scheme is case-insensitive")
        #expect(tokens.user(request("Bearer gamma")) == "carol", "the kubelet's static token file is read")
        #expect(tokens.user(request("Bearer alpha")) == nil)
        #expect(tokens.user(request("Bearer alpha-token-and-more")) == nil)
        #expect(tokens.user(request("Basic alpha-token")) == nil)
        #expect(tokens.user(request("Bearer ")) == nil)
        #expect(tokens.user(request(nil)) == nil)
    }

    @Test func badTokenFilesNameTheFileAndLine() throws {
        let dir = try TemporaryDirectory()
        for (text, reason) in [("", "holds no token"), ("# only a comment\n", "holds no token"),
                               ("good\n,bob\n", "line 2 has no token (expected token or token,user)"),
                               ("two words\n", "line 1: a token holds no spaces")] {
            try text.write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
            #expect(throws: CredentialFileError(path: dir.file("tokens"), reason: reason)) {
                try BearerTokens(path: dir.file("tokens"))
            }
        }
        #expect(throws: CredentialFileError(path: dir.file("none"), reason: "cannot be read")) { try BearerTokens(path: dir.file("none")) }
        // A reload that fails keeps the loaded tokens.
        try "kept\n".write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
        let tokens = try BearerTokens(path: dir.file("tokens"))
        #expect(tokens.reloadIfChanged() == nil, "unchanged")
        try "\n".write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
        #expect(throws: CredentialFileError.self) { try tokens.reloadIfChanged()?.get() }
        #expect(tokens.reloadIfChanged() == nil, "a failed change is reported once")
        #expect(tokens.user(HTTPRequest(uri: "/", headers: [("Authorization", "Bearer kept")])) == "")
    }
}

extension InotifyUsers {
    /// TLS and bearer tokens through the real binary, real handshakes (curl, openssl s_client) and a
    /// real Prometheus.
    @Suite(.serialized) struct TLSDaemonTests {
        let agentBinary = Package.root + "/.build/debug/node-metrics"

        func tlsAgent(_ pki: TestPKI, _ extra: [String] = []) throws -> RunningAgent {
            try RunningAgent(["-tls_cert_file=\(pki.file("server.pem"))", "-tls_key_file=\(pki.file("server.key"))"] + extra,
                             ready: { pki.curl(port: $0, "/healthz") == 200 })
        }

        @Test func tlsServesTheCertificateAndReloadsItWithoutARestart() throws {
            let pki = try TestPKI()
            let agent = try tlsAgent(pki)
            defer { agent.child.stop() }
            #expect(pki.curl(port: agent.port, "/metrics") == 200)
            #expect(pki.curl(port: agent.port, "/api/v2.0/version") == 200, "no client certificate or token asked for")
            #expect((try? LoopbackHTTP.get(port: agent.port, "/healthz"))?.status != 200, "plain HTTP is not served")
            #expect(pki.servedSerial(port: agent.port) == "1001")
            // A new certificate over the file: new connections get it, without a restart or a signal.
            try pki.issueServer(serial: "1002")
            #expect(eventually(10) { pki.servedSerial(port: agent.port) == "1002" ? true : nil } == true)
            // A broken file keeps the loaded certificate.
            try "not a certificate\n".write(toFile: pki.file("server.pem"), atomically: true, encoding: .utf8)
            usleep(3_000_000)
            #expect(pki.servedSerial(port: agent.port) == "1002")
            #expect(pki.curl(port: agent.port, "/metrics") == 200)
            // A new key and certificate (the key lands first: a moment of mismatch is refused and logged).
            try pki.issueServer(serial: "1003", newKey: true)
            #expect(eventually(10) { pki.servedSerial(port: agent.port) == "1003" ? true : nil } == true)
            #expect(pki.curl(port: agent.port, "/metrics") == 200)
            // SIGHUP reloads whether or not the files changed.
            kill(agent.child.process.processIdentifier, SIGHUP)
            usleep(1_000_000)
            #expect(agent.child.process.isRunning)
            agent.child.stop()
            let log = agent.child.log
            #expect(log.contains("credentials not reloaded") && log.contains("\(pki.file("server.pem")): not a PEM certificate"), "\(log)")
            let reloads = log.split(separator: "\n").filter { $0.contains("credentials reloaded") }
            #expect(reloads.count >= 3, "1002, 1003 and the SIGHUP: \(reloads)")
            #expect(reloads.last?.contains("serial 1003") == true)
        }

        @Test func badTLSAndTokenFilesStopStartUpNamingThem() throws {
            let pki = try TestPKI()
            try "garbage\n".write(toFile: pki.file("garbage.pem"), atomically: true, encoding: .utf8)
            try "\n".write(toFile: pki.file("empty-tokens"), atomically: true, encoding: .utf8)
            let cert = "-tls_cert_file=\(pki.file("server.pem"))", key = "-tls_key_file=\(pki.file("server.key"))"
            let cases: [([String], String)] = [
                (["-tls_cert_file=/nonexistent/cert.pem", key], "TLS: /nonexistent/cert.pem: cannot be read"),
                (["-tls_cert_file=\(pki.file("garbage.pem"))", key], "TLS: \(pki.file("garbage.pem")): not a PEM certificate"),
                ([cert, "-tls_key_file=\(pki.file("garbage.pem"))"], "TLS: \(pki.file("garbage.pem")): not a PEM private key"),
                ([cert, "-tls_key_file=\(pki.file("client.key"))"], "TLS: \(pki.file("client.key")): does not match the certificate of \(pki.file("server.pem"))"),
                ([cert, key, "-tls_client_ca_file=\(pki.file("garbage.pem"))"], "TLS: \(pki.file("garbage.pem")): not a PEM certificate"),
                ([cert], "-tls_cert_file and -tls_key_file go together"),
                (["-tls_client_ca_file=\(pki.file("client-ca.pem"))"], "-tls_client_ca_file needs -tls_cert_file and -tls_key_file"),
                (["-http_token_file=\(pki.file("empty-tokens"))"], "-http_token_file: \(pki.file("empty-tokens")): holds no token"),
            ]
            for (arguments, message) in cases {
                let r = try run(agentBinary, ["-port=1"] + arguments)
                #expect(r.status != 0 && r.output.contains(message), "\(arguments): \(r.output)")
            }
        }

        @Test func clientCertificatesAreAskedForAndVerified() throws {
            let pki = try TestPKI()
            let agent = try tlsAgent(pki, ["-tls_client_ca_file=\(pki.file("client-ca.pem"))"])
            defer { agent.child.stop() }
            for path in ["/metrics", "/api/v2.0/version", "/containers/", "/stats/summary"] {
                #expect(pki.curl(port: agent.port, path, pki.clientCertificate()) == 200, "\(path) with the client certificate")
                #expect(pki.curl(port: agent.port, path) == 401, "\(path) without one")
            }
            #expect(pki.curl(port: agent.port, "/healthz") == 200, "probes need no certificate")
            #expect(pki.curl(port: agent.port, "/metrics", pki.clientCertificate("stranger")) == 0,
                    "a certificate of another CA fails the handshake")
        }

        @Test func bearerTokensProtectEveryEndpointButHealthz() throws {
            let dir = try TemporaryDirectory()
            let tokens = dir.file("tokens"), passwords = dir.file("htpasswd")
            try "# Prometheus\nalpha-token\nbeta-token,bob\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            _ = try run("/usr/bin/htpasswd", ["-cbB", passwords, "alice", "s3cret"])
            let agent = try RunningAgent(["-http_token_file=\(tokens)", "-http_auth_file=\(passwords)"])
            defer { agent.child.stop() }
            func status(_ path: String, _ authorization: String? = nil) throws -> Int {
                try agent.get(path, headers: authorization.map { "Authorization: \($0)\r\n" } ?? "").status
            }
            let refused = try agent.get("/metrics")
            #expect(refused.status == 401)
            #expect(refused.headers.contains("WWW-Authenticate: Bearer realm=\"node-metrics\"\r\n"), "\(refused.headers)")
            #expect(refused.headers.contains("WWW-Authenticate: Basic realm=\"localhost\""), "passwords are offered too")
            let wrong = try agent.get("/metrics", headers: "Authorization: Bearer nope\r\n")
            #expect(wrong.status == 401 && wrong.headers.contains("error=\"invalid_token\""))
            for path in ["/metrics", "/api/v2.0/version", "/api/v1.3/machine", "/containers/", "/stats/summary", "/metrics/resource", "/validate/"] {
                #expect(try status(path) == 401, "\(path) without a token")
                #expect(try status(path, "Bearer alpha-token") == 200, "\(path)")
                #expect(try status(path, "Bearer beta-token") == 200, "\(path)")
            }
            #expect(try status("/metrics", "Basic " + Data("alice:s3cret".utf8).base64EncodedString()) == 200, "together with htpasswd")
            #expect(try status("/metrics", "Basic " + Data("alice:wrong".utf8).base64EncodedString()) == 401)
            #expect(try status("/healthz") == 200)
            // The file changes: the new token works and the removed one stops, without a signal.
            try "gamma-token\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            #expect(eventually(10) { (try? status("/metrics", "Bearer gamma-token")) == 200 ? true : nil } == true)
            #expect(try status("/metrics", "Bearer alpha-token") == 401)
            // A broken file keeps the loaded tokens.
            try "# nothing\n".write(toFile: tokens, atomically: true, encoding: .utf8)
            usleep(3_000_000)
            #expect(try status("/metrics", "Bearer gamma-token") == 200)
        }

        @Test func aRealPrometheusScrapesOverTLSWithATokenOrAClientCertificate() throws {
            let pki = try TestPKI()
            try "prometheus-token,prometheus\n".write(toFile: pki.file("tokens"), atomically: true, encoding: .utf8)
            try "prometheus-token".write(toFile: pki.file("credentials"), atomically: true, encoding: .utf8)
            try "wrong-token".write(toFile: pki.file("wrong"), atomically: true, encoding: .utf8)
            let agent = try tlsAgent(pki, ["-tls_client_ca_file=\(pki.file("client-ca.pem"))", "-http_token_file=\(pki.file("tokens"))"])
            defer { agent.child.stop() }
            func job(_ name: String, scheme: String = "https", _ extra: String) -> String {
                """
                  - job_name: \(name)
                    scheme: \(scheme)
                    static_configs:
                      - targets: ['127.0.0.1:\(agent.port)']
                \(extra)
                """
            }
            let ca = "    tls_config:\n      ca_file: \(pki.file("ca.pem"))\n"
            let prometheus = try RunningPrometheus(scrapeConfigs: [
                job("token", ca + "    authorization:\n      type: Bearer\n      credentials_file: \(pki.file("credentials"))"),
                job("certificate", ca + "      cert_file: \(pki.file("client.pem"))\n      key_file: \(pki.file("client.key"))"),
                job("wrong-token", ca + "    authorization:\n      credentials_file: \(pki.file("wrong"))"),
                job("stranger-certificate", ca + "      cert_file: \(pki.file("stranger.pem"))\n      key_file: \(pki.file("stranger.key"))"),
                job("nothing", ca),
                job("plain-http", scheme: "http", ""),
            ].joined(separator: "\n"))
            let expected: [String: Double] = ["token": 1, "certificate": 1, "wrong-token": 0, "stranger-certificate": 0,
                                              "nothing": 0, "plain-http": 0]
            let up = try prometheus.waitForUp(expected)
            #expect(up == expected)
            for job in ["token", "certificate"] {
                let rate = eventually(30) { () -> [[String: Any]]? in
                    let r = (try? prometheus.query("rate(container_cpu_usage_seconds_total{job=\"\(job)\",id=\"/\"}[10s])")) ?? []
                    return r.isEmpty ? nil : r
                }
                #expect(rate != nil, "\(job): container series scraped")
            }
        }
    }
}

extension InotifyUsers.RouterTests {
    /// Requests that join another's rendering of /metrics skip the router's check, so only
    /// authenticated ones may join; /healthz is open whatever is configured.
    @Test func onlyAuthenticatedScrapesShareARendering() throws {
        let dir = try TemporaryDirectory()
        try "scraper-token\n".write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
        let secured = APIRouter(manager: manager, tokens: try BearerTokens(path: dir.file("tokens")), clientCertificates: true)
        let anonymous = HTTPRequest(uri: "/metrics")
        var certified = HTTPRequest(uri: "/metrics")
        certified.clientCertificateVerified = true
        let tokened = HTTPRequest(uri: "/metrics", headers: [("Authorization", "Bearer scraper-token")])
        #expect(secured.workload(anonymous).shareable == false)
        #expect(secured.workload(certified).shareable && secured.workload(tokened).shareable)
        #expect(router.workload(anonymous).shareable, "without credentials configured, scrapes share")
        let refused = secured.handle(anonymous)
        #expect(refused.status == 401 && refused.bodyText.contains("a client certificate signed by -tls_client_ca_file or a bearer token"))
        #expect(secured.refusal(certified, path: "/api/v2.0/version") == nil && secured.refusal(tokened, path: "/containers/") == nil)
        #expect(secured.refusal(anonymous, path: "/healthz") == nil)
        #expect(secured.refusal(anonymous, path: "/api/v2.0/version")?.status == 401)
    }
}
