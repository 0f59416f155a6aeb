import FoundationEssentials
import Logging
import CCgroupFast

/// `-storage_driver=bigquery`: cAdvisor's table (19 columns) and rows through BigQuery's REST
/// streaming insert (`tabledata.insertAll`), authorised with a service account: an RS256-signed JWT
/// (`-bq_account` as issuer, the PEM key of `-bq_credentials_file`, signed in the C core with the
/// system's OpenSSL libcrypto, cgf_sign.h) exchanged at the OAuth2 token endpoint for a bearer token, renewed before it expires.
///
/// Decided, against cAdvisor's quirks: the dataset is `-storage_driver_table` and the table
/// `-storage_driver_db`, as cAdvisor swaps them (an existing command line keeps writing to the same
/// table: `stats.cadvisor` by default); the per-filesystem rows also carry `timestamp`, `machine` and
/// `container_name`, which the schema requires (cAdvisor's lack them and are rejected); one
/// insertAll per batch with an `insertId` per row, so a retried batch is deduplicated by BigQuery;
/// the dataset and table are created at the first write (409 "already exists" is fine), not at
/// start-up, so a start without network works and the backend retries. `-bq_id` and `-bq_secret`
/// (a PKCS#12 password) are accepted and unused: the key file is PEM.
public final class BigQueryDriver: StorageDriver, @unchecked Sendable {
    public let name: String
    public let configuration: Configuration
    private let machine: String
    private let key: OpaquePointer // cgf_rsa_key, freed in deinit
    private let tokenURL: PushURL
    private let api: PushURL
    private let tokenClient: UnixHTTPClient
    private let apiClient: UnixHTTPClient
    private let logger = Logger(label: "node-metrics.storage.bigquery")
    // Used from the backend's sender thread only (the StorageDriver contract).
    private var token: (value: String, expiresNanos: Int64)?
    private var tableReady = false

    /// The `-bq_*` flags and the swapped `-storage_driver_table`/`-storage_driver_db`.
    public struct Configuration: Sendable {
        public var projectID = ""
        /// `-storage_driver_table` (default "stats").
        public var dataset = "stats"
        /// `-storage_driver_db` (default "cadvisor").
        public var table = "cadvisor"
        /// `-bq_account`: the service account's e-mail, the JWT's issuer.
        public var account = ""
        /// `-bq_credentials_file`: its private key (PEM, PKCS#1 or PKCS#8).
        public var credentialsFile = ""
        public var clientID = ""
        public var secret = "notasecret"
        /// Google's endpoints; tests point them at a loopback server.
        public var tokenURL = "https://oauth2.googleapis.com/token"
        public var apiBase = "https://bigquery.googleapis.com/bigquery/v2"
        /// A PEM CA for the endpoints' certificates (nil: the system's).
        public var caFile: String?
        public init() {}
    }

    /// A missing flag or an unusable key file, named.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// A batch BigQuery did not take (the backend retries it).
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public var destination: String { "project \(configuration.projectID) table \(configuration.dataset).\(configuration.table)" }

    /// From the `-bq_*` flags and the swapped `-storage_driver_table`/`-storage_driver_db` (the registry's factory).
    public convenience init(name: String = "bigquery", options: StorageOptions) throws(Invalid) {
        var c = Configuration()
        c.projectID = options.bqProjectID
        c.dataset = options.table
        c.table = options.db
        c.account = options.bqAccount
        c.credentialsFile = options.bqCredentialsFile
        c.clientID = options.bqID
        c.secret = options.bqSecret
        try self.init(name: name, configuration: c, machine: options.machineName)
    }

    public init(name: String = "bigquery", configuration c: Configuration, timeout: Duration = .seconds(15),
                machine: String = StorageOptions.hostname()) throws(Invalid) {
        self.name = name
        self.machine = machine
        for (flag, value) in [("-bq_project_id", c.projectID), ("-bq_account", c.account), ("-bq_credentials_file", c.credentialsFile),
                              ("-storage_driver_table (the dataset)", c.dataset), ("-storage_driver_db (the table)", c.table)] where value.isEmpty {
            throw Invalid(description: "bigquery: \(flag) is required")
        }
        guard let pem = HostFiles.read(c.credentialsFile) else {
            throw Invalid(description: "bigquery: -bq_credentials_file: \(c.credentialsFile): missing or unreadable")
        }
        let urls: (token: PushURL, api: PushURL)
        do {
            var api = try PushURL(c.apiBase, caFile: c.caFile)
            while api.path.hasSuffix("/") { api.path.removeLast() }
            urls = (try PushURL(c.tokenURL, caFile: c.caFile), api)
        } catch {
            throw Invalid(description: "bigquery: \(error.description)")
        }
        var err = [CChar](repeating: 0, count: 512)
        let bytes = Array(pem.utf8)
        guard let key = cgf_rsa_key_load(bytes, bytes.count, &err, err.count) else {
            throw Invalid(description: "bigquery: -bq_credentials_file: \(c.credentialsFile): not a PEM RSA private key of 2048 bits or more: \(String(nulTerminated: err))")
        }
        self.key = key
        tokenURL = urls.token
        api = urls.api
        tokenClient = UnixHTTPClient(endpoint: tokenURL.endpoint, timeout: timeout)
        apiClient = UnixHTTPClient(endpoint: api.endpoint, timeout: timeout)
        configuration = c
    }

    static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
        var s = Data(bytes).base64EncodedString()
        s = s.replacing("+", with: "-").replacing("/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }

    /// The signed assertion of the JWT bearer flow (RFC 7523) for the BigQuery scope.
    public func assertion(nowSeconds: Int64) throws -> String {
        var claims = JSONWriter(capacity: 256)
        claims.beginObject()
        claims.field("iss", configuration.account)
        claims.field("scope", "https://www.googleapis.com/auth/bigquery")
        claims.field("aud", configuration.tokenURL)
        claims.field("iat", nowSeconds)
        claims.field("exp", nowSeconds + 3600)
        claims.endObject()
        let input = Self.base64URL(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8)) + "." + Self.base64URL(claims.bytes)
        var signature = [UInt8](repeating: 0, count: Int(cgf_rsa_key_bits(key)) / 8 + 16)
        var err = [CChar](repeating: 0, count: 256)
        let bytes = Array(input.utf8)
        let n = cgf_rsa_sign_sha256(key, bytes, bytes.count, &signature, signature.count, &err, err.count)
        guard n > 0, n <= signature.count else { throw Failure(description: "bigquery: signing the JWT: \(String(nulTerminated: err))") }
        return input + "." + Self.base64URL(signature.prefix(Int(n)))
    }

    private struct TokenAnswer: Decodable {
        var access_token: String
        var expires_in: Int64?
    }

    private func bearer() throws -> String {
        let now = Clocks.wallNanos()
        if let token, token.expiresNanos > now + 60_000_000_000 { return token.value }
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + (try assertion(nowSeconds: now / 1_000_000_000))
        let r = try tokenClient.request("POST", tokenURL.path, headers: [tokenURL.hostHeader, ("Content-Type", "application/x-www-form-urlencoded")],
                                        body: Array(form.utf8), maxBody: 1 << 20)
        guard r.status == 200, let answer = try? JSONDecoder().decode(TokenAnswer.self, from: Data(r.body)), !answer.access_token.isEmpty else {
            throw Failure(description: "bigquery: token endpoint: HTTP \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        let lifetime = max(60, min(answer.expires_in ?? 3600, 86400))
        token = (answer.access_token, now + lifetime * 1_000_000_000)
        return answer.access_token
    }

    private func call(_ path: String, _ body: [UInt8]) throws -> UnixHTTPClient.Response {
        let r = try apiClient.request("POST", api.path + path,
                                      headers: [api.hostHeader, ("Authorization", "Bearer \(try bearer())"), ("Content-Type", "application/json")],
                                      body: body, maxBody: 16 << 20)
        if r.status == 401 { token = nil } // expired or revoked: a new one next time
        return r
    }

    /// cAdvisor's schema (`timestamp`, `machine`, `container_name` REQUIRED).
    public static let schema: [(name: String, type: String, required: Bool)] = [
        ("timestamp", "TIMESTAMP", true), ("machine", "STRING", true), ("container_name", "STRING", true),
        ("cpu_cumulative_usage", "INTEGER", false), ("cpu_cumulative_usage_system", "INTEGER", false),
        ("cpu_cumulative_usage_user", "INTEGER", false), ("memory_usage", "INTEGER", false),
        ("memory_working_set", "INTEGER", false), ("memory_container_pgfault", "INTEGER", false),
        ("memory_container_pgmajfault", "INTEGER", false), ("memory_hierarchical_pgfault", "INTEGER", false),
        ("memory_hierarchical_pgmajfault", "INTEGER", false), ("rx_bytes", "INTEGER", false), ("rx_errors", "INTEGER", false),
        ("tx_bytes", "INTEGER", false), ("tx_errors", "INTEGER", false), ("fs_device", "STRING", false),
        ("fs_limit", "INTEGER", false), ("fs_usage", "INTEGER", false),
    ]

    private func ensureTable() throws {
        guard !tableReady else { return }
        let c = configuration
        var dataset = JSONWriter(capacity: 128)
        dataset.beginObject()
        dataset.object("datasetReference") { w in
            w.field("projectId", c.projectID)
            w.field("datasetId", c.dataset)
        }
        dataset.endObject()
        let d = try call("/projects/\(c.projectID)/datasets", dataset.bytes)
        guard (200..<300).contains(d.status) || d.status == 409 else {
            throw Failure(description: "bigquery: creating dataset \(c.dataset): HTTP \(d.status): \(String(decoding: d.body.prefix(300), as: UTF8.self))")
        }
        var table = JSONWriter(capacity: 2048)
        table.beginObject()
        table.object("tableReference") { w in
            w.field("projectId", c.projectID)
            w.field("datasetId", c.dataset)
            w.field("tableId", c.table)
        }
        table.object("schema") { w in
            w.array("fields", Self.schema) { w, f in
                w.beginObject()
                w.field("name", f.name)
                w.field("type", f.type)
                w.field("mode", f.required ? "REQUIRED" : "NULLABLE")
                w.endObject()
            }
        }
        table.endObject()
        let t = try call("/projects/\(c.projectID)/datasets/\(c.dataset)/tables", table.bytes)
        guard (200..<300).contains(t.status) || t.status == 409 else {
            throw Failure(description: "bigquery: creating table \(c.dataset).\(c.table): HTTP \(t.status): \(String(decoding: t.body.prefix(300), as: UTF8.self))")
        }
        tableReady = true
    }

    /// RFC 3339 with at most microseconds (BigQuery's TIMESTAMP precision).
    static func timestamp(_ nanos: Int64) -> String {
        let text = GoTime.rfc3339Nano(nanosSinceEpoch: nanos)
        guard let dot = text.firstIndex(of: "."), let end = text[dot...].firstIndex(where: { !($0 == "." || $0.isNumber) }) else { return text }
        let fraction = text[text.index(after: dot)..<end]
        return String(text[..<dot]) + (fraction.isEmpty ? "" : "." + fraction.prefix(6)) + text[end...]
    }

    /// The insertAll body: per sample the main row and a row per filesystem, each with an insertId.
    public func insertAllBody(_ batch: [StoredSample]) -> [UInt8] {
        var w = JSONWriter(capacity: batch.count * 700)
        w.beginObject()
        w.field("kind", "bigquery#tableDataInsertAllRequest")
        w.key("rows")
        w.beginArray()
        for s in batch {
            let sample = s.sample, m = sample.memory
            let net = FlatStats.firstInterface(sample)
            let time = Self.timestamp(sample.timestampNanos)
            let idBase = "\(machine)|\(s.referenceName)|\(sample.timestampNanos)"
            func row(_ id: String, _ body: (inout JSONWriter) -> Void) {
                w.beginObject()
                w.field("insertId", id)
                w.object("json") { j in
                    j.field("timestamp", time)
                    j.field("machine", machine)
                    j.field("container_name", s.referenceName)
                    body(&j)
                }
                w.endObject()
            }
            row(idBase) { j in
                j.field("cpu_cumulative_usage", Int64(clamping: sample.cpu.usage.total))
                j.field("cpu_cumulative_usage_system", Int64(clamping: sample.cpu.usage.system))
                j.field("cpu_cumulative_usage_user", Int64(clamping: sample.cpu.usage.user))
                j.field("memory_usage", Int64(clamping: m.usage))
                j.field("memory_working_set", Int64(clamping: m.workingSet))
                j.field("memory_container_pgfault", Int64(clamping: m.pgfault))
                j.field("memory_container_pgmajfault", Int64(clamping: m.pgmajfault))
                j.field("memory_hierarchical_pgfault", Int64(clamping: m.hierarchicalPgfault))
                j.field("memory_hierarchical_pgmajfault", Int64(clamping: m.hierarchicalPgmajfault))
                j.field("rx_bytes", Int64(clamping: net?.rxBytes ?? 0))
                j.field("rx_errors", Int64(clamping: net?.rxErrors ?? 0))
                j.field("tx_bytes", Int64(clamping: net?.txBytes ?? 0))
                j.field("tx_errors", Int64(clamping: net?.txErrors ?? 0))
            }
            for fs in sample.filesystems {
                row(idBase + "|" + fs.device) { j in
                    j.field("fs_device", fs.device)
                    j.field("fs_limit", Int64(clamping: fs.capacity))
                    j.field("fs_usage", Int64(clamping: fs.usage))
                }
            }
        }
        w.endArray()
        w.endObject()
        return w.bytes
    }

    private struct InsertAnswer: Decodable {
        var insertErrors: [InsertError]?
        struct InsertError: Decodable {
            var index: Int?
            var errors: [Reason]?
        }
        struct Reason: Decodable {
            var reason: String?
            var message: String?
        }
    }

    public func write(_ batch: [StoredSample]) throws {
        guard !batch.isEmpty else { return }
        try ensureTable()
        let c = configuration
        let r = try call("/projects/\(c.projectID)/datasets/\(c.dataset)/tables/\(c.table)/insertAll", insertAllBody(batch))
        let text = String(decoding: r.body.prefix(300), as: UTF8.self)
        if r.status == 401 || r.status == 408 || r.status == 429 || r.status >= 500 {
            throw Failure(description: "bigquery: insertAll: HTTP \(r.status): \(text)")
        }
        guard r.status == 200 else {
            logger.error("bigquery: insertAll refused the batch (not retried): HTTP \(r.status): \(text)")
            return
        }
        if let errors = (try? JSONDecoder().decode(InsertAnswer.self, from: Data(r.body)))?.insertErrors, !errors.isEmpty {
            let first = errors.first?.errors?.first
            logger.error("bigquery: \(errors.count) rows refused (not retried): \(first?.reason ?? "") \(first?.message ?? "")")
        }
    }

    public func close() {}

    deinit { cgf_rsa_key_free(key) }
}
