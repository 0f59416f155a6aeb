/// An `http://` or `https://` URL the push path sends to (remote write, Elasticsearch, BigQuery):
/// where to connect, and the path (with query) to put in the request line.
public struct PushURL: Sendable, CustomStringConvertible {
    public var endpoint: HTTPEndpoint
    /// "/api/v1/write", or "/" when the URL has no path.
    public var path: String
    public var secure: Bool
    public let text: String

    /// A URL that is not `http(s)://host[:port][/path]`.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// `caFile`: the PEM CA an https URL's server certificate is checked against (nil: the system's).
    public init(_ text: String, caFile: String? = nil) throws(Invalid) {
        self.text = text
        let rest: Substring, defaultPort: Int
        if text.hasPrefix("https://") {
            secure = true; rest = text.dropFirst(8); defaultPort = 443
        } else if text.hasPrefix("http://") {
            secure = false; rest = text.dropFirst(7); defaultPort = 80
        } else {
            throw Invalid(description: "\(text): not an http:// or https:// URL")
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard !authority.includes("@") else { throw Invalid(description: "\(text): credentials do not go in the URL (use the files)") }
        let host: Substring, portText: Substring?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            portText = after.isEmpty ? nil : after.dropFirst()
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority; portText = nil
        }
        var port = defaultPort
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else { throw Invalid(description: "\(text): bad port \"\(portText)\"") }
            port = p
        }
        guard !host.isEmpty, !host.includes(" ") else { throw Invalid(description: "\(text): no host") }
        var tls: TLSClient?
        if secure {
            do { tls = try TLSClient(verifyingServerWith: caFile) } catch { throw Invalid(description: "\(text): \(error.description)") }
        }
        endpoint = .tcp(host: String(host), port: port, tls: tls)
    }

    public var description: String { text }

    /// The `Host` header for this URL (the port only when it is not the scheme's default).
    public var hostHeader: (String, String) {
        guard case .tcp(let host, let port, _) = endpoint else { return ("Host", "localhost") }
        let name = host.includes(":") ? "[\(host)]" : host
        return ("Host", port == (secure ? 443 : 80) ? name : "\(name):\(port)")
    }
}
