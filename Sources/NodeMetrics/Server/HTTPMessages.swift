import NIOCore

/// A request as the router sees it: the method, the path with the URL base prefix removed, the
/// decoded query and the body.
public struct HTTPRequest: Sendable {
    public var method: String
    /// The request target as sent (path and query, still percent-encoded).
    public var uri: String
    public var path: String
    public var query: [String: String]
    public var body: [UInt8]
    public var headers: [(String, String)]
    /// The connection presented a client certificate that chains to `-tls_client_ca_file`.
    public var clientCertificateVerified = false

    public init(method: String = "GET", uri: String, body: [UInt8] = [], headers: [(String, String)] = []) {
        self.method = method
        self.uri = uri
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        path = Self.percentDecode(parts.first.map(String.init) ?? "/")
        var q: [String: String] = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = Self.percentDecode(String(kv[0]).replacing("+", with: " "))
                if q[key] == nil {
                    q[key] = kv.count > 1 ? Self.percentDecode(String(kv[1]).replacing("+", with: " ")) : ""
                }
            }
        }
        query = q
        self.body = body
        self.headers = headers
    }

    /// The first value of a header (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    static func percentDecode(_ s: String) -> String {
        s.includes("%") ? s.decodingHexEscapes(marker: "%") : s
    }
}

/// A complete response.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]
    public var headers: [(String, String)] = []
    /// Set for `stream=true` event requests: the body is these events as newline-delimited JSON,
    /// sent with chunked transfer encoding until the client goes away.
    public var eventStream: AsyncStream<ContainerEvent>?
    /// `body` already in a NIO buffer, when one answer goes to many connections: every write
    /// shares this one buffer instead of copying the body again.
    var sharedBuffer: ByteBuffer?

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8], headers: [(String, String)] = []) {
        self.status = status
        self.contentType = contentType
        self.body = body
        self.headers = headers
    }

    public static func text(_ status: Int, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, body: Array(text.utf8))
    }

    public static func json(_ w: JSONWriter) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "application/json", body: w.bytes)
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
