import Synchronization

/// Bearer tokens (`-http_token_file`, RFC 6750 `Authorization: Bearer <token>`): one token per line,
/// optionally followed by a comma and a user name — `token` or `token,user` — as the first fields of
/// the kubelet's static token file (`token,user,uid,"groups"`; further fields are ignored, so such a
/// file can be reused). Blank lines and lines starting with `#` are skipped; surrounding spaces are
/// trimmed. A file without any token is refused. Tokens are compared in constant time.
public final class BearerTokens: WatchedCredentialFiles {
    /// `-http_token_file`.
    public let path: String
    /// token bytes → user name ("" when the line named none).
    private let tokens: Mutex<[(token: [UInt8], user: String)]>
    public let watch = FileContentsWatch()

    /// Reads the file; an unreadable file or one without a token is an error naming it.
    public init(path: String) throws(CredentialFileError) {
        self.path = path
        tokens = Mutex(try Self.load(path))
        watch.changed([path])
    }

    public var paths: [String] { [path] }
    /// Tokens loaded.
    public var tokenCount: Int { tokens.withLock { $0.count } }
    public var loadedSummary: String { "\(tokenCount) tokens" }

    public func reload() throws(CredentialFileError) {
        watch.changed([path])
        let fresh = try Self.load(path)
        tokens.withLock { $0 = fresh }
    }

    static func load(_ path: String) throws(CredentialFileError) -> [(token: [UInt8], user: String)] {
        guard let text = HostFiles.read(path) else { throw CredentialFileError(path: path, reason: "cannot be read") }
        var out: [(token: [UInt8], user: String)] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmed }
            guard let token = fields.first, !token.isEmpty else {
                throw CredentialFileError(path: path, reason: "line \(i + 1) has no token (expected token or token,user)")
            }
            guard !token.contains(where: { $0 == " " || $0 == "\t" }) else {
                throw CredentialFileError(path: path, reason: "line \(i + 1): a token holds no spaces")
            }
            out.append((Array(token.utf8), fields.count > 1 ? fields[1] : ""))
        }
        guard !out.isEmpty else { throw CredentialFileError(path: path, reason: "holds no token") }
        return out
    }

    /// The user of the request's bearer token ("" for a token without a user name); nil when the
    /// request carries no token or an unknown one.
    public func user(_ request: HTTPRequest) -> String? {
        guard let header = request.header("Authorization") else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let presented = Array(parts[1].trimmed.utf8)
        guard !presented.isEmpty else { return nil }
        return tokens.withLock { tokens in
            var found: String?
            for entry in tokens where Self.constantTimeEqual(entry.token, presented) && found == nil {
                found = entry.user
            }
            return found
        }
    }

    /// Equality whose time depends on the lengths only, not on where the bytes first differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
