import Foundation
import Testing
@testable import NodeMetrics

/// The bigquery driver against a loopback HTTPS server (Python's http.server with a certificate
/// made here) that answers as Google's OAuth2 token endpoint and BigQuery's REST API do and records
/// every request; the test checks them: the JWT bearer grant (its RS256 signature verified with
/// openssl against the service account's public key), the bearer token on the API calls, the
/// dataset and table (cAdvisor's schema) and the insertAll rows. No BigQuery exists here.
@Suite(.serialized) struct BigQueryDriverTests {
    static let server = #"""
    import http.server, json, ssl, sys
    port, cert, key, log = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    state = {"datasets": 0}
    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            with open(log, "a") as f:
                f.write(json.dumps({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}) + "\n")
            if self.path == "/token":
                status, answer = 200, {"access_token": "ya29.test-token", "expires_in": 3599, "token_type": "Bearer"}
            elif self.headers.get("Authorization") != "Bearer ya29.test-token":
                status, answer = 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
            elif self.path.endswith("/datasets"):
                state["datasets"] += 1
                status, answer = (409, {"error": {"code": 409, "message": "Already Exists: Dataset p1:stats"}}) if state["datasets"] > 1 else (200, {"kind": "bigquery#dataset"})
            elif self.path.endswith("/tables"):
                status, answer = 200, {"kind": "bigquery#table"}
            elif self.path.endswith("/insertAll"):
                status, answer = 200, {"kind": "bigquery#tableDataInsertAllResponse"}
            else:
                status, answer = 404, {"error": {"code": 404, "message": "Not found"}}
            out = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    httpd.serve_forever()
    """#

    func sh(_ command: String) throws -> String {
        let r = try run("/bin/bash", ["-c", command])
        if r.status != 0 { throw TestFailure("\(command): \(r.output)") }
        return r.output
    }

    @Test func serviceAccountTokenThenTableThenRows() throws {
        let dir = try TemporaryDirectory()
        _ = try sh("""
            set -e; cd \(dir.path)
            openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=ca -keyout ca-key.pem -out ca.pem 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
            openssl req -newkey rsa:2048 -nodes -subj /CN=server -keyout server-key.pem -out server.csr 2>/dev/null
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 -extfile server.ext -out server.pem 2>/dev/null
            openssl genrsa -out account.pem 2048 2>/dev/null
            openssl rsa -in account.pem -pubout -out account-pub.pem 2>/dev/null
            """)
        try Self.server.write(toFile: dir.file("server.py"), atomically: true, encoding: .utf8)
        var child: ChildProcess?
        var port = 0
        for _ in 0..<5 where child == nil {
            port = Int.random(in: 20000...60000)
            let p = try ChildProcess("/usr/bin/python3", [dir.file("server.py"), "\(port)", dir.file("server.pem"), dir.file("server-key.pem"), dir.file("requests.log")])
            if eventually(5, { (try? LoopbackHTTP.connect(port: port)).map { close($0); return true } }) == true { child = p } else { p.stop() }
        }
        let server = try #require(child)
        defer { server.stop() }

        var c = BigQueryDriver.Configuration()
        c.projectID = "p1"
        c.account = "agent@p1.iam.gserviceaccount.com"
        c.credentialsFile = dir.file("account.pem")
        c.tokenURL = "https://127.0.0.1:\(port)/token"
        c.apiBase = "https://127.0.0.1:\(port)/bigquery/v2"
        c.caFile = dir.file("ca.pem")
        let driver = try BigQueryDriver(configuration: c)
        var sample = storedSample("/docker/abc", cpuTotal: 5_000_000_000, aliases: ["web", "abc"], runtime: "docker")
        sample.sample.filesystems = [FilesystemStats(device: "/dev/sda1", type: "vfs")]
        sample.sample.filesystems[0].capacity = 10_737_418_240
        sample.sample.filesystems[0].usage = 2_147_483_648
        try driver.write([sample, storedSample("/", cpuTotal: 9)])
        try driver.write([storedSample("/", cpuTotal: 10)]) // the token and table are reused

        let log = try String(contentsOfFile: dir.file("requests.log"), encoding: .utf8).split(separator: "\n")
        let requests = try log.map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let paths = requests.compactMap { $0["path"] as? String }
        #expect(paths == ["/token", "/bigquery/v2/projects/p1/datasets", "/bigquery/v2/projects/p1/datasets/stats/tables",
                          "/bigquery/v2/projects/p1/datasets/stats/tables/cadvisor/insertAll",
                          "/bigquery/v2/projects/p1/datasets/stats/tables/cadvisor/insertAll"])
        // The JWT bearer grant, signed with the account's key.
        let tokenRequest = requests[0]
        let headers = try #require(tokenRequest["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/x-www-form-urlencoded")
        let form = try #require(tokenRequest["body"] as? String)
        #expect(form.hasPrefix("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="))
        let jwt = String(form.split(separator: "=").last ?? "")
        let parts = jwt.split(separator: ".").map(String.init)
        try #require(parts.count == 3)
        func decode(_ s: String) -> Data? {
            var b = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while b.count % 4 != 0 { b += "=" }
            return Data(base64Encoded: b)
        }
        let headerData = try #require(decode(parts[0])), claimsData = try #require(decode(parts[1]))
        let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
        #expect(header["alg"] as? String == "RS256")
        let claims = try #require(try JSONSerialization.jsonObject(with: claimsData) as? [String: Any])
        #expect(claims["iss"] as? String == "agent@p1.iam.gserviceaccount.com")
        #expect(claims["scope"] as? String == "https://www.googleapis.com/auth/bigquery")
        #expect(claims["aud"] as? String == c.tokenURL)
        let iat = try #require((claims["iat"] as? NSNumber)?.doubleValue), exp = try #require((claims["exp"] as? NSNumber)?.doubleValue)
        #expect(abs(iat - Date().timeIntervalSince1970) < 120 && exp - iat == 3600)
        try "\(parts[0]).\(parts[1])".write(toFile: dir.file("signed"), atomically: true, encoding: .utf8)
        try #require(decode(parts[2])).write(to: URL(fileURLWithPath: dir.file("signature")))
        let verified = try sh("openssl dgst -sha256 -verify \(dir.file("account-pub.pem")) -signature \(dir.file("signature")) \(dir.file("signed"))")
        #expect(verified.contains("Verified OK"))
        // Bearer token on every API call; the table with cAdvisor's 19 columns.
        for r in requests.dropFirst() {
            #expect((r["headers"] as? [String: String])?["authorization"] == "Bearer ya29.test-token")
        }
        let table = try #require(try JSONSerialization.jsonObject(with: Data((requests[2]["body"] as? String ?? "").utf8)) as? [String: Any])
        let fields = try #require((table["schema"] as? [String: Any])?["fields"] as? [[String: String]])
        #expect(fields.count == 19)
        #expect(fields.prefix(3).map { $0["mode"] } == ["REQUIRED", "REQUIRED", "REQUIRED"])
        #expect((table["tableReference"] as? [String: String]) == ["projectId": "p1", "datasetId": "stats", "tableId": "cadvisor"])
        // Rows: a main row and a filesystem row (with the required columns) per sample.
        let insert = try #require(try JSONSerialization.jsonObject(with: Data((requests[3]["body"] as? String ?? "").utf8)) as? [String: Any])
        let rows = try #require(insert["rows"] as? [[String: Any]])
        #expect(rows.count == 3)
        let main = try #require(rows[0]["json"] as? [String: Any])
        #expect(main["container_name"] as? String == "web")
        #expect(main["machine"] as? String == StorageOptions.hostname())
        #expect(main["timestamp"] as? String == "2020-03-01T12:00:00.123456Z")
        #expect((main["cpu_cumulative_usage"] as? NSNumber)?.int64Value == 5_000_000_000)
        #expect((main["memory_usage"] as? NSNumber)?.int64Value == 104_857_600)
        let fs = try #require(rows[1]["json"] as? [String: Any])
        #expect(fs["fs_device"] as? String == "/dev/sda1" && (fs["fs_usage"] as? NSNumber)?.int64Value == 2_147_483_648)
        #expect(fs["container_name"] as? String == "web" && fs["timestamp"] as? String == "2020-03-01T12:00:00.123456Z")
        #expect(Set(rows.compactMap { $0["insertId"] as? String }).count == 3) // ids for deduplication
    }

    @Test func missingFlagsAndBadKeysAreClearErrors() throws {
        var c = BigQueryDriver.Configuration()
        c.projectID = "p1"
        c.account = "a@b"
        do { _ = try BigQueryDriver(configuration: c); Issue.record("accepted") } catch { #expect(error.description.contains("-bq_credentials_file")) }
        c.credentialsFile = "/nonexistent.pem"
        do { _ = try BigQueryDriver(configuration: c); Issue.record("accepted") } catch { #expect(error.description.contains("/nonexistent.pem")) }
        let dir = try TemporaryDirectory()
        try "not a key".write(toFile: dir.file("k.pem"), atomically: true, encoding: .utf8)
        c.credentialsFile = dir.file("k.pem")
        do { _ = try BigQueryDriver(configuration: c); Issue.record("accepted") } catch { #expect(error.description.contains("not a PEM RSA private key")) }
    }

    /// The key is loaded and checked by the C core (OpenSSL's libcrypto): PKCS#8 and PKCS#1 RSA keys of
    /// 2048 bits or more sign; a short RSA key, an EC key, an encrypted key and a public key are refused
    /// naming why, by the driver and at the agent's start-up (it exits, naming the file).
    @Test func keyFormsAndRefusedKeys() throws {
        let dir = try TemporaryDirectory()
        _ = try sh("""
            set -e; cd \(dir.path)
            openssl genrsa -out pkcs8.pem 3072 2>/dev/null
            openssl genrsa -traditional -out pkcs1.pem 2048 2>/dev/null
            openssl genrsa -out short.pem 1024 2>/dev/null
            openssl ecparam -name prime256v1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out ec.pem
            openssl genrsa -aes256 -passout pass:secret -out encrypted.pem 2048 2>/dev/null
            openssl rsa -in pkcs1.pem -pubout -out public.pem 2>/dev/null
            """)
        #expect(try String(contentsOfFile: dir.file("pkcs8.pem"), encoding: .utf8).hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(try String(contentsOfFile: dir.file("pkcs1.pem"), encoding: .utf8).hasPrefix("-----BEGIN RSA PRIVATE KEY-----"))
        var c = BigQueryDriver.Configuration()
        c.projectID = "p1"
        c.account = "a@b"
        for (file, bytes) in [("pkcs8.pem", 384), ("pkcs1.pem", 256)] {
            c.credentialsFile = dir.file(file)
            let jwt = try BigQueryDriver(configuration: c).assertion(nowSeconds: 1_700_000_000)
            let parts = jwt.split(separator: ".")
            #expect(parts.count == 3 && (parts.last?.count ?? 0) == (bytes * 4 + 2) / 3, "\(file): \(jwt)")
        }
        let refused = [("short.pem", "an RSA key of 1024 bits, fewer than 2048"), ("ec.pem", "a key of type EC, not RSA"),
                       ("encrypted.pem", "no unencrypted PEM private key"), ("public.pem", "no unencrypted PEM private key")]
        for (file, reason) in refused {
            c.credentialsFile = dir.file(file)
            do {
                _ = try BigQueryDriver(configuration: c)
                Issue.record("\(file) accepted")
            } catch {
                #expect(error.description.contains("\(dir.file(file)): not a PEM RSA private key of 2048 bits or more: \(reason)"), "\(error)")
            }
            let agent = Package.root + "/.build/debug/node-metrics"
            let r = try run(agent, ["-port=\(Int.random(in: 20000...60000))", "-listen_ip=127.0.0.1", "-storage_driver=bigquery",
                                    "-bq_project_id=p1", "-bq_account=a@b", "-bq_credentials_file=\(dir.file(file))"])
            #expect(r.status != 0, "\(file)")
            #expect(r.output.contains(reason) && r.output.contains(dir.file(file)), "\(file): \(r.output.suffix(800))")
        }
    }
}
