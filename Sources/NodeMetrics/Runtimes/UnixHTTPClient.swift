import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// HTTP/1.1 over a unix socket (or Docker's TCP/TLS endpoint), one request per connection, blocking
/// with a timeout: what the Docker and Podman APIs and CRI-O's info socket speak. Used off the
/// sampling thread only.
public struct UnixHTTPClient: Sendable {
    /// Where the API listens (a unix socket, or TCP with or without TLS for Docker).
    public let endpoint: HTTPEndpoint
    /// Connect, send and each read give up after this long.
    public let timeout: Duration

    /// The endpoint as messages name it: the socket path, or `tcp://host:port`.
    public var socketPath: String { endpoint.description }

    public init(socketPath: String, timeout: Duration = .seconds(5)) {
        self.init(endpoint: .unix(path: socketPath), timeout: timeout)
    }

    public init(endpoint: HTTPEndpoint, timeout: Duration = .seconds(5)) {
        self.endpoint = endpoint
        self.timeout = timeout
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
        /// The peer had closed (or reset) the connection before any of the response came: on a kept-alive
        /// connection, the server dropped it while idle and the request may go again on a new one.
        var peerClosed = false
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]
    }

    func connect() throws(Failure) -> Int32 {
        try endpoint.connect(timeout: timeout)
    }

    func send(_ fd: Int32, _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
              keepAlive: Bool = false) throws(Failure) {
        var head = "\(method) \(path) HTTP/1.1\r\n"
        if !headers.contains(where: { $0.0.lowercased() == "host" }) { head += "Host: localhost\r\n" }
        if !headers.contains(where: { $0.0.lowercased() == "user-agent" }) { head += "User-Agent: node-metrics\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" || method == "PUT" { head += "Content-Length: \(body.count)\r\n" }
        head += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
        let request = Array(head.utf8) + body
        var sent = 0
        while sent < request.count {
            let n = request[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                throw Failure(description: "\(socketPath): send failed", peerClosed: e == EPIPE || e == ECONNRESET)
            }
            sent += n
        }
    }

    /// Reads until `stop` says the buffer is complete or the peer closes; false from `stop` goes on.
    private func readHead(_ fd: Int32, into buffer: inout [UInt8]) throws(Failure) -> (Int, [String: String], Int) {
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            if let end = Self.find([13, 10, 13, 10], in: buffer, from: 0) {
                let head = String(decoding: buffer[0..<end], as: UTF8.self).split(separator: "\r\n")
                guard let first = head.first, let status = Int(first.split(separator: " ").dropFirst().first ?? "") else {
                    throw Failure(description: "\(socketPath): not an HTTP response")
                }
                var headers: [String: String] = [:]
                for line in head.dropFirst() {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmed
                }
                return (status, headers, end + 4)
            }
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else {
                let reset = n == 0 || errno == ECONNRESET
                throw Failure(description: "\(socketPath): connection closed before the response head", peerClosed: reset && buffer.isEmpty)
            }
            buffer.append(contentsOf: chunk[0..<n])
            if buffer.count > 1 << 20 { throw Failure(description: "\(socketPath): response head too large") }
        }
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }

    /// A whole response; chunked bodies are decoded. Bodies over `maxBody` are an error.
    public func request(_ method: String = "GET", _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
                        maxBody: Int = 32 << 20) throws(Failure) -> Response {
        let fd = try connect()
        defer { close(fd) }
        return try exchange(fd, method, path, headers: headers, body: body, maxBody: maxBody, keepAlive: false).response
    }

    /// Sends one request on `fd` and reads its response. With `keepAlive` the request leaves out
    /// `Connection: close` and the body is read by its length or chunks only, so the connection can
    /// take the next request (`reusable`: the server neither closed it nor said it will).
    func exchange(_ fd: Int32, _ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                  maxBody: Int, keepAlive: Bool) throws(Failure) -> (response: Response, reusable: Bool) {
        try send(fd, method, path, headers: headers, body: body, keepAlive: keepAlive)
        var buffer: [UInt8] = []
        let (status, headers, bodyStart) = try readHead(fd, into: &buffer)
        var raw = Array(buffer[bodyStart...])
        var chunk = [UInt8](repeating: 0, count: 65536)
        let contentLength = headers["content-length"].flatMap { Int($0) }
        if let contentLength, contentLength < 0 {
            throw Failure(description: "\(socketPath): bad Content-Length \(contentLength)")
        }
        let chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        var reusable = keepAlive && headers["connection"]?.lowercased() != "close"
        if keepAlive && chunked {
            var decoder = ChunkedDecoder()
            var decoded: [UInt8] = []
            try decoder.feed(raw) { decoded.append(contentsOf: $0) }
            while !decoder.isFinished {
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw Failure(description: "\(socketPath): \(n == 0 ? "connection closed in a chunked body" : "read timed out")") }
                try decoder.feed(Array(chunk[0..<n])) { decoded.append(contentsOf: $0) }
                guard decoded.count <= maxBody else { throw Failure(description: "\(socketPath): response larger than \(maxBody) bytes") }
            }
            return (Response(status: status, headers: headers, body: decoded), reusable)
        }
        // No body at all: 1xx, 204, 304.
        let bodyless = (100..<200).contains(status) || status == 204 || status == 304
        if keepAlive && (bodyless || contentLength != nil) {
            let length = bodyless ? 0 : contentLength ?? 0
            while raw.count < length {
                let n = recv(fd, &chunk, chunk.count, 0)
                guard n > 0 else { throw Failure(description: "\(socketPath): \(n == 0 ? "connection closed in the body" : "read timed out")") }
                raw.append(contentsOf: chunk[0..<n])
                guard raw.count <= maxBody else { throw Failure(description: "\(socketPath): response larger than \(maxBody) bytes") }
            }
            if raw.count > length { reusable = false } // more than the response: do not guess
            return (Response(status: status, headers: headers, body: Array(raw.prefix(length))), reusable)
        }
        reusable = false // the body ends where the connection does
        while true {
            if let length = contentLength, raw.count >= length { raw = Array(raw.prefix(length)); break }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { break }
            guard n > 0 else { throw Failure(description: "\(socketPath): read timed out") }
            raw.append(contentsOf: chunk[0..<n])
            guard raw.count <= maxBody else { throw Failure(description: "\(socketPath): response larger than \(maxBody) bytes") }
        }
        if chunked {
            var decoder = ChunkedDecoder()
            var body: [UInt8] = []
            try decoder.feed(raw) { body.append(contentsOf: $0) }
            raw = body
        }
        return (Response(status: status, headers: headers, body: raw), reusable)
    }

    /// A streaming GET (Docker's /events): calls `onLine` for each newline-terminated line of the body
    /// until the peer closes, a read fails, or `onLine` returns false. Reads wait up to `idle` each.
    public func stream(_ path: String, idle: Duration, onLine: ([UInt8]) -> Bool) throws(Failure) {
        let fd = try connect()
        defer { close(fd) }
        let micros = idle.nanoseconds / 1000
        var tv = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        try send(fd, "GET", path)
        var buffer: [UInt8] = []
        let (status, headers, bodyStart) = try readHead(fd, into: &buffer)
        guard status == 200 else { throw Failure(description: "\(socketPath)\(path): HTTP \(status)") }
        let chunked = headers["transfer-encoding"]?.lowercased() == "chunked"
        var decoder = ChunkedDecoder()
        var pending: [UInt8] = []
        var keepGoing = true
        func deliver(_ bytes: ArraySlice<UInt8>) {
            pending.append(contentsOf: bytes)
            while keepGoing, let nl = pending.firstIndex(of: 0x0A) {
                keepGoing = onLine(Array(pending[..<nl]))
                pending.removeSubrange(...nl)
            }
        }
        func consume(_ bytes: [UInt8]) throws(Failure) {
            if chunked { try decoder.feed(bytes) { deliver($0) } } else { deliver(bytes[...]) }
        }
        try consume(Array(buffer[bodyStart...]))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while keepGoing {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK { continue } // idle: still connected
                throw Failure(description: "\(socketPath): \(String(cString: strerror(errno)))")
            }
            try consume(Array(chunk[0..<n]))
        }
    }
}

/// Decodes `Transfer-Encoding: chunked` incrementally.
struct ChunkedDecoder {
    private var pending: [UInt8] = []
    private var remaining = 0
    private var finished = false

    /// The last chunk (size 0) has come.
    var isFinished: Bool { finished }

    mutating func feed(_ bytes: [UInt8], _ out: (ArraySlice<UInt8>) -> Void) throws(UnixHTTPClient.Failure) {
        pending.append(contentsOf: bytes)
        var i = 0
        while !finished {
            if remaining > 0 {
                let take = min(remaining, pending.count - i)
                if take == 0 { break }
                out(pending[i..<(i + take)])
                i += take
                remaining -= take
                if remaining == 0 { remaining = -2 } // the CRLF after the data
                continue
            }
            if remaining == -2 {
                guard pending.count - i >= 2 else { break }
                i += 2
                remaining = 0
                continue
            }
            guard let lineEnd = UnixHTTPClient.find([13, 10], in: pending, from: i) else { break }
            let sizeText = String(decoding: pending[i..<lineEnd], as: UTF8.self).split(separator: ";").first.map(String.init) ?? ""
            guard let size = Int(sizeText.trimmed, radix: 16), size >= 0 else {
                throw UnixHTTPClient.Failure(description: "bad chunk size \"\(sizeText)\"")
            }
            i = lineEnd + 2
            if size == 0 { finished = true } else { remaining = size }
        }
        pending.removeFirst(i)
    }
}

/// One kept-alive HTTP/1.1 connection for a sender that posts again and again (the InfluxDB storage
/// driver): each request goes on the same socket while the server keeps it open; a new connection is
/// made after the server closes it or says `Connection: close`, or after a failed request. A request
/// that finds the kept connection closed by the server while idle (nothing of a response came) goes
/// once more on a new one. Used by one thread at a time.
final class KeepAliveHTTPConnection: @unchecked Sendable {
    // @unchecked: the socket is used by the one thread that sends (a storage driver's sender).
    let client: UnixHTTPClient
    private var fd: Int32 = -1
    /// Connections made so far (a test's check that one serves many requests).
    private(set) var connects = 0

    init(client: UnixHTTPClient) { self.client = client }

    deinit { close() }

    func request(_ method: String, _ path: String, headers: [(String, String)], body: [UInt8],
                 maxBody: Int) throws(UnixHTTPClient.Failure) -> UnixHTTPClient.Response {
        var reused = fd >= 0
        while true {
            if fd < 0 {
                fd = try client.connect()
                connects += 1
            }
            do {
                let (response, reusable) = try client.exchange(fd, method, path, headers: headers, body: body,
                                                              maxBody: maxBody, keepAlive: true)
                if !reusable { close() }
                return response
            } catch {
                close()
                guard reused && error.peerClosed else { throw error }
                reused = false
            }
        }
    }

    /// Closes the kept connection (the next request makes a new one).
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
