import Foundation
@testable import NodeMetrics

/// An HTTP/1.1 server on a random loopback port for the push drivers' tests: it reads each request
/// (head and Content-Length body), records it and answers what `respond` returns. Stopped (socket
/// closed, thread joined) when the value goes away.
final class LoopbackServer: @unchecked Sendable {
    struct Request {
        var method: String
        var path: String
        /// Header names lowercased.
        var headers: [String: String]
        var body: [UInt8]
    }

    let port: Int
    private let fd: Int32
    private let state = State()
    private let thread: Thread

    /// What the serving thread shares with the test (the thread holds this, not the server).
    private final class State: @unchecked Sendable {
        let lock = NSLock()
        var recorded: [Request] = []
        var running = true
        let done = DispatchSemaphore(value: 0)
    }

    var requests: [Request] { state.lock.withLock { state.recorded } }

    init(respond: @escaping @Sendable (Request) -> (status: Int, body: String)) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard let bound = bindLoopback(fd), listen(fd, 16) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        port = bound
        self.fd = fd
        var tv = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let state = state
        thread = Thread {
            Self.serve(fd, state, respond)
            state.done.signal()
        }
        thread.start()
    }

    private static func serve(_ fd: Int32, _ state: State, _ respond: (Request) -> (status: Int, body: String)) {
        while state.lock.withLock({ state.running }) {
            let client = accept(fd, nil, nil)
            if client < 0 { continue }
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if let request = Self.read(client) {
                state.lock.withLock { state.recorded.append(request) }
                let (status, body) = respond(request)
                let response = "HTTP/1.1 \(status) X\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
                _ = Array(response.utf8).withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
            close(client)
        }
    }

    private static func read(_ fd: Int32) -> Request? {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var headEnd: Int?
        var contentLength = 0
        while true {
            if headEnd == nil, let r = Data(buffer).range(of: Data("\r\n\r\n".utf8)) {
                headEnd = r.upperBound
                let head = String(decoding: buffer[..<r.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() where line.lowercased().hasPrefix("content-length:") {
                    contentLength = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
                }
            }
            if let headEnd, buffer.count >= headEnd + contentLength { break }
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return nil }
            buffer.append(contentsOf: chunk[0..<n])
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self).split(separator: "\r\n")
        guard let first = head.first else { return nil }
        let parts = first.split(separator: " ")
        guard parts.count == 3 else { return nil }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return Request(method: String(parts[0]), path: String(parts[1]), headers: headers,
                       body: Array(buffer[headEnd..<(headEnd + contentLength)]))
    }

    deinit {
        state.lock.withLock { state.running = false }
        state.done.wait()
        close(fd)
    }
}

/// Binds a socket to a random port on 127.0.0.1 and returns the port (nil: bind or getsockname failed).
func bindLoopback(_ fd: Int32) -> Int? {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    addr.sin_port = 0
    let bound = withUnsafePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { return nil }
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
    }
    return named == 0 ? Int(UInt16(bigEndian: addr.sin_port)) : nil
}
