import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

@Suite struct HashTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test func md5AndSHA1MatchTheirStandardVectors() {
        let md5: [(String, String)] = [("", "d41d8cd98f00b204e9800998ecf8427e"), ("abc", "900150983cd24fb0d6963f7d28e17f72"),
                                       (String(repeating: "a", count: 1000), "cabe45dcc9ae5b66ba86600cca6b8ba8"),
                                       ("message digest", "f96b697d7cb7938d525a2f31aaf161d0")]
        for (input, want) in md5 {
            var out = [UInt8](repeating: 0, count: 16)
            cgf_md5(input, input.utf8.count, &out)
            #expect(hex(out) == want, "md5(\(input.prefix(10)))")
        }
        let sha1: [(String, String)] = [("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"), ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
                                        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
                                        (String(repeating: "a", count: 1000), "291e9a6c66994949b57ba5e650361e98fc36b1ba")]
        for (input, want) in sha1 {
            var out = [UInt8](repeating: 0, count: 20)
            cgf_sha1(input, input.utf8.count, &out)
            #expect(hex(out) == want, "sha1(\(input.prefix(10)))")
        }
    }

    /// Hashes written by the real htpasswd (apache2-utils), one of each kind.
    @Test func everyHashHtpasswdWritesIsChecked() throws {
        let dir = try TemporaryDirectory()
        let file = dir.file("users")
        for (flags, user, password) in [("-cbB", "bcrypt", "pw-1"), ("-bs", "sha", "pw-2"), ("-bm", "apr1", "pw-3"), ("-b2", "sha256", "pw-4"),
                                         ("-b5", "sha512", "pw-5")] {
            let r = try run("/usr/bin/htpasswd", [flags, file, user, password])
            #expect(r.status == 0, "\(r.output)")
        }
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)
        for (i, line) in lines.enumerated() {
            let hash = String(line.split(separator: ":", maxSplits: 1)[1])
            #expect(cgf_password_matches("pw-\(i + 1)", hash) == 1, "\(line)")
            #expect(cgf_password_matches("pw-\(i + 1)x", hash) == 0, "\(line)")
            #expect(cgf_password_matches("", hash) == 0)
        }
        #expect(cgf_password_matches("plain", "plain") == 0, "plain text is refused")
        #expect(cgf_password_matches("x", "$2y$garbage") == 0)
        #expect(cgf_password_matches("x", "") == 0)
    }
}

extension InotifyUsers {
    /// Authentication through the real binary, with files made by htpasswd and htdigest.
    @Suite(.serialized) struct AuthDaemonTests {
        func curl(_ args: [String]) throws -> Int {
            let r = try run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}"] + args)
            return Int(r.output) ?? -1
        }

        @Test func basicAuthProtectsTheUIAndReloadsOnSIGHUP() throws {
            let dir = try TemporaryDirectory()
            let file = dir.file("htpasswd")
            _ = try run("/usr/bin/htpasswd", ["-cbB", file, "alice", "s3cret"])
            _ = try run("/usr/bin/htpasswd", ["-bm", file, "carol", "apr1-pass"])
            let agent = try RunningAgent(["-http_auth_file=\(file)", "-http_auth_realm=test"])
            defer { agent.child.stop() }
            let url = "http://127.0.0.1:\(agent.port)"
            #expect(try curl([url + "/containers/"]) == 401)
            let challenge = try agent.get("/containers/")
            #expect(challenge.headers.contains("WWW-Authenticate: Basic realm=\"test\""))
            #expect(try curl(["-u", "alice:s3cret", url + "/containers/"]) == 200)
            #expect(try curl(["-u", "carol:apr1-pass", url + "/containers/"]) == 200)
            #expect(try curl(["-u", "alice:wrong", url + "/containers/"]) == 401)
            #expect(try curl(["-u", "nobody:x", url + "/containers/"]) == 401)
            #expect(try curl(["-H", "Authorization: Basic !!!notbase64", url + "/containers/"]) == 401)
            #expect(try curl(["-H", "Authorization: Basic " + Data("no-colon".utf8).base64EncodedString(), url + "/containers/"]) == 401)
            // cAdvisor leaves the API and /metrics open.
            #expect(try curl([url + "/metrics"]) == 200)
            #expect(try curl([url + "/api/v2.0/version"]) == 200)
            // A new user after SIGHUP; a broken file on SIGHUP keeps the old users.
            _ = try run("/usr/bin/htpasswd", ["-bs", file, "bob", "sha-pass"])
            #expect(try curl(["-u", "bob:sha-pass", url + "/containers/"]) == 401, "not read before SIGHUP")
            kill(agent.child.process.processIdentifier, SIGHUP)
            var code = 0
            for _ in 0..<50 where code != 200 {
                usleep(100_000)
                code = try curl(["-u", "bob:sha-pass", url + "/containers/"])
            }
            #expect(code == 200, "read again on SIGHUP")
            try "a line without a colon\n".write(toFile: file, atomically: true, encoding: .utf8)
            kill(agent.child.process.processIdentifier, SIGHUP)
            usleep(500_000)
            #expect(try curl(["-u", "bob:sha-pass", url + "/containers/"]) == 200, "a broken file keeps the loaded users")
            #expect(agent.child.process.isRunning)
            agent.child.stop()
            #expect(agent.child.log.contains("credentials not reloaded"))
        }

        @Test func digestAuthOnEveryEndpoint() throws {
            let dir = try TemporaryDirectory()
            let file = dir.file("htdigest")
            // htdigest asks for the password on the terminal; its file format is user:realm:md5(user:realm:password).
            var md5 = [UInt8](repeating: 0, count: 16)
            let secret = "dave:private:dig-pass"
            cgf_md5(secret, secret.utf8.count, &md5)
            try "dave:private:\(md5.map { String(format: "%02x", $0) }.joined())\nother:elsewhere:00000000000000000000000000000000\n"
                .write(toFile: file, atomically: true, encoding: .utf8)
            let agent = try RunningAgent(["-http_digest_file=\(file)", "-http_digest_realm=private", "-http_auth_all_endpoints"])
            defer { agent.child.stop() }
            let url = "http://127.0.0.1:\(agent.port)"
            #expect(try curl(["--digest", "-u", "dave:dig-pass", url + "/api/v2.0/stats?count=1"]) == 200)
            #expect(try curl(["--digest", "-u", "dave:dig-pass", url + "/metrics"]) == 200)
            #expect(try curl(["--digest", "-u", "dave:dig-pass", url + "/containers/"]) == 200)
            #expect(try curl(["--digest", "-u", "dave:wrong", url + "/metrics"]) == 401)
            #expect(try curl(["--digest", "-u", "other:x", url + "/metrics"]) == 401, "a user of another realm")
            #expect(try curl([url + "/metrics"]) == 401)
            #expect(try curl([url + "/api/v1.3/machine"]) == 401)
            #expect(try curl([url + "/pods"]) == 401 && curl([url + "/stats/summary"]) == 401, "the kubelet endpoints too")
            #expect(try curl([url + "/healthz"]) == 200, "liveness probes stay open")
            // A made-up nonce is refused.
            let forged = "Authorization: Digest username=\"dave\", realm=\"private\", nonce=\"1.abc\", uri=\"/metrics\", response=\"00\"\r\n"
            #expect(try agent.get("/metrics", headers: forged).status == 401)
        }

        @Test func badAuthFilesStopStartUpNamingThem() throws {
            let r = try run(Package.root + "/.build/debug/node-metrics", ["-port=1", "-http_auth_file=/nonexistent/htpasswd"])
            #expect(r.status != 0 && r.output.contains("-http_auth_file: /nonexistent/htpasswd: cannot be read"), "\(r.output)")
            let s = try run(Package.root + "/.build/debug/node-metrics", ["-http_auth_all_endpoints"])
            #expect(s.status != 0 && s.output.contains("-http_auth_all_endpoints needs"), "\(s.output)")
        }
    }
}
