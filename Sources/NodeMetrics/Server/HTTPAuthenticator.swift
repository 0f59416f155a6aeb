import CCgroupFast
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// cAdvisor's HTTP authentication: basic against an htpasswd file (`-http_auth_file`; bcrypt, {SHA},
/// APR1 and crypt's $1$/$5$/$6$, as htpasswd writes them) or digest (RFC 2617, qop=auth, MD5)
/// against an htdigest file (`-http_digest_file`). The file is read at start and again on `reload()`
/// (SIGHUP: `CredentialFiles`); a reload that fails keeps the credentials that were loaded. Wrong or
/// missing credentials are a 401 with a challenge, never an error of the server.
public final class HTTPAuthenticator: CredentialFiles {
    public enum Scheme: String, Sendable { case basic, digest }

    public typealias FileError = CredentialFileError

    public let scheme: Scheme
    public let path: String
    public let realm: String
    /// basic: user → htpasswd hash; digest: user → HA1 of this realm.
    private let credentials: Mutex<[String: String]>
    /// Signs nonces, so they need no server-side table.
    private let secret: String
    /// How long a digest nonce is accepted.
    public static let nonceLifetime: Int64 = 300

    public init(scheme: Scheme, path: String, realm: String) throws(FileError) {
        self.scheme = scheme
        self.path = path
        self.realm = realm
        var rng = SystemRandomNumberGenerator()
        secret = (0..<4).map { _ in String(rng.next() as UInt64, radix: 16) }.joined()
        credentials = Mutex(try Self.load(scheme: scheme, path: path, realm: realm))
    }

    public var paths: [String] { [path] }
    public var loadedSummary: String { "\(userCount) users" }

    /// Number of users loaded.
    public var userCount: Int { credentials.withLock { $0.count } }

    /// Re-reads the file; on error the previous credentials stay.
    public func reload() throws(FileError) {
        let fresh = try Self.load(scheme: scheme, path: path, realm: realm)
        credentials.withLock { $0 = fresh }
    }

    static func load(scheme: Scheme, path: String, realm: String) throws(FileError) -> [String: String] {
        guard let text = HostFiles.read(path) else { throw FileError(path: path, reason: "cannot be read") }
        var out: [String: String] = [:]
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            switch scheme {
            case .basic:
                guard fields.count == 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                    throw FileError(path: path, reason: "line \(i + 1) is not user:hash")
                }
                out[fields[0]] = fields[1]
            case .digest:
                guard fields.count == 3, !fields[0].isEmpty, fields[2].count == 32,
                      fields[2].allSatisfy({ $0.isHexDigit }) else {
                    throw FileError(path: path, reason: "line \(i + 1) is not user:realm:md5")
                }
                if fields[1] == realm { out[fields[0]] = fields[2].lowercased() }
            }
        }
        return out
    }

    /// nil when the request carries valid credentials, else the 401 to send.
    public func authenticate(_ request: HTTPRequest) -> HTTPResponse? {
        let header = request.header("Authorization") ?? ""
        switch scheme {
        case .basic:
            if header.hasPrefix("Basic "), checkBasic(String(header.dropFirst(6)).trimmed) != nil { return nil }
            return challenge("Basic realm=\"\(realm)\"")
        case .digest:
            if header.hasPrefix("Digest ") {
                switch checkDigest(Self.digestFields(String(header.dropFirst(7))), method: request.method, uri: request.uri) {
                case .ok: return nil
                case .stale: return challenge(digestChallenge(stale: true))
                case .denied: break
                }
            }
            return challenge(digestChallenge(stale: false))
        }
    }

    private func challenge(_ value: String) -> HTTPResponse {
        HTTPResponse(status: 401, body: Array("401 Unauthorized\n".utf8), headers: [("WWW-Authenticate", value)])
    }

    func checkBasic(_ encoded: String) -> String? {
        guard let data = Data(base64Encoded: encoded) else { return nil }
        let text = String(decoding: data, as: UTF8.self)
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let user = String(text[..<colon]), password = String(text[text.index(after: colon)...])
        guard let hash = credentials.withLock({ $0[user] }) else { return nil }
        return cgf_password_matches(password, hash) == 1 ? user : nil
    }

    // MARK: digest

    static func md5Hex(_ s: String) -> String {
        var digest = [UInt8](repeating: 0, count: 16)
        var s = s
        s.withUTF8 { cgf_md5($0.baseAddress, $0.count, &digest) }
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Seconds since the epoch.
    static func now() -> Int64 { Clocks.wallNanos() / 1_000_000_000 }

    /// `<time in hex>.<md5(secret:time)>`: the server can tell its own nonces and their age.
    func makeNonce(at time: Int64 = now()) -> String {
        let t = String(time, radix: 16)
        return t + "." + Self.md5Hex(secret + ":" + t)
    }

    enum DigestResult { case ok, stale, denied }

    func digestChallenge(stale: Bool) -> String {
        "Digest realm=\"\(realm)\", nonce=\"\(makeNonce())\", opaque=\"\(Self.md5Hex(secret + realm))\", algorithm=\"MD5\", qop=\"auth\""
            + (stale ? ", stale=\"true\"" : "")
    }

    /// The key=value pairs of a Digest header (values quoted or not).
    static func digestFields(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let eq = rest.firstIndex(of: "=") else { break }
            let key = rest[..<eq].trimmed.lowercased()
            rest = rest[rest.index(after: eq)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                var escaped = false
                var end = rest.endIndex
                for i in rest.indices {
                    let c = rest[i]
                    if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { end = i; break } else { value.append(c) }
                }
                rest = end < rest.endIndex ? rest[rest.index(after: end)...] : ""
            } else {
                let end = rest.firstIndex(of: ",") ?? rest.endIndex
                value = rest[..<end].trimmed
                rest = rest[end...]
            }
            out[key] = value
        }
        return out
    }

    func checkDigest(_ f: [String: String], method: String, uri: String) -> DigestResult {
        guard let user = f["username"], let nonce = f["nonce"], let response = f["response"], let digestURI = f["uri"],
              f["realm"] == realm, digestURI == uri,
              let ha1 = credentials.withLock({ $0[user] }) else { return .denied }
        // The nonce must be ours; an old one is "stale" so the client retries without asking the user.
        let parts = nonce.split(separator: ".")
        guard parts.count == 2, let time = Int64(parts[0], radix: 16), makeNonce(at: time) == nonce else { return .denied }
        let ha2 = Self.md5Hex(method + ":" + digestURI)
        let expected: String
        if let qop = f["qop"] {
            guard qop == "auth", let nc = f["nc"], let cnonce = f["cnonce"] else { return .denied }
            expected = Self.md5Hex([ha1, nonce, nc, cnonce, qop, ha2].joined(separator: ":"))
        } else {
            expected = Self.md5Hex([ha1, nonce, ha2].joined(separator: ":"))
        }
        guard expected.utf8.elementsEqual(response.lowercased().utf8) else { return .denied }
        // `time` is one this server signed (checked above), so the subtraction cannot overflow.
        return Self.now() - time > Self.nonceLifetime ? .stale : .ok
    }
}
