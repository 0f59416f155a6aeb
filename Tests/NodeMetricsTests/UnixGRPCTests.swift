import Foundation
import Testing
@testable import NodeMetrics

// ---- the scripted peer -------------------------------------------------------------------------

private func frame(_ type: UInt8, _ flags: UInt8, _ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
    let n = UInt32(payload.count)
    return [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff), type, flags,
            UInt8(stream >> 24 & 0x7f), UInt8(stream >> 16 & 0xff), UInt8(stream >> 8 & 0xff), UInt8(stream & 0xff)] + payload
}

/// HPACK integer with a 7-bit prefix (RFC 7541 5.1).
private func hpackInt(_ v: Int) -> [UInt8] {
    if v < 127 { return [UInt8(v)] }
    var out: [UInt8] = [127], rest = v - 127
    while rest >= 128 { out.append(UInt8(rest % 128 + 128)); rest /= 128 }
    return out + [UInt8(rest)]
}

/// A HEADERS frame of literal fields without indexing (no Huffman).
private func headers(_ stream: UInt32, _ fields: [(String, String)], endStream: Bool) -> [UInt8] {
    var block: [UInt8] = []
    for (name, value) in fields {
        block += [0] + hpackInt(name.utf8.count) + Array(name.utf8) + hpackInt(value.utf8.count) + Array(value.utf8)
    }
    return frame(1, 0x4 | (endStream ? 0x1 : 0), stream, block)
}

/// DATA frames of at most 16384 bytes (the default SETTINGS_MAX_FRAME_SIZE).
private func data(_ stream: UInt32, _ bytes: [UInt8], endStream: Bool) -> [UInt8] {
    var out: [UInt8] = [], off = 0
    repeat {
        let end = min(bytes.count, off + 16384)
        out += frame(0, endStream && end == bytes.count ? 0x1 : 0, stream, Array(bytes[off..<end]))
        off = end
    } while off < bytes.count
    return out
}

/// gRPC's length-prefixed message.
private func message(_ bytes: [UInt8], flag: UInt8 = 0, length: UInt32? = nil) -> [UInt8] {
    let n = length ?? UInt32(bytes.count)
    return [flag, UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + bytes
}

private let okHeaders: [(String, String)] = [(":status", "200"), ("content-type", "application/grpc")]

/// A complete answer: headers, one message, trailers with grpc-status 0.
private func answer(_ stream: UInt32, _ payload: [UInt8]) -> [UInt8] {
    headers(stream, okHeaders, endStream: false) + data(stream, message(payload), endStream: false)
        + headers(stream, [("grpc-status", "0")], endStream: true)
}

/// A peer on one end of a socketpair: server SETTINGS (and the ACK of the client's), then for every
/// request whose stream ends, `respond(stream id)`'s bytes (nil: never answer). Returns the client's end.
private final class Peer: @unchecked Sendable {
    let clientFD: Int32
    let serverFD: Int32
    private let lock = NSLock()
    private var received: [(UInt8, UInt8, UInt32)] = []
    /// What the client sent: (frame type, flags, stream id) in order.
    var frames: [(UInt8, UInt8, UInt32)] { lock.withLock { received } }
    let done = DispatchSemaphore(value: 0)

    /// The peer closes its end when the client closes its own, or after its first answer when
    /// `closeAfterAnswers`.
    init(closeAfterAnswers: Bool = false, respond: @escaping @Sendable (UInt32) -> [UInt8]?) throws {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw POSIXError(.EIO) }
        clientFD = fds[0]
        serverFD = fds[1]
        let fd = serverFD
        Thread.detachNewThread { [self] in
            defer { close(fd); done.signal() }
            func write(_ bytes: [UInt8]) {
                var off = 0
                while off < bytes.count {
                    let n = bytes[off...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { return }
                    off += n
                }
            }
            func read(_ count: Int) -> [UInt8]? {
                var out = [UInt8](repeating: 0, count: count), off = 0
                while off < count {
                    let n = out[off...].withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { return nil }
                    off += n
                }
                return out
            }
            guard read(24) != nil else { return } // the client preface
            write(frame(4, 0, 0, []))
            while let header = read(9) {
                let length = Int(header[0]) << 16 | Int(header[1]) << 8 | Int(header[2])
                let stream = UInt32(header[5] & 0x7f) << 24 | UInt32(header[6]) << 16 | UInt32(header[7]) << 8 | UInt32(header[8])
                guard read(length) != nil else { return }
                lock.withLock { received.append((header[3], header[4], stream)) }
                if header[3] == 4 && header[4] & 1 == 0 { write(frame(4, 1, 0, [])) } // SETTINGS → ACK
                if header[3] == 0 && header[4] & 1 == 1, let answer = respond(stream) {
                    write(answer)
                    if closeAfterAnswers { return }
                }
            }
        }
    }
}


/// The runtimes' gRPC client (UnixGRPC over the C core's libnghttp2 client) against a scripted HTTP/2
/// peer on the other end of a socketpair: the peer reads the client's frames and, when a request's
/// stream ends, writes canned frames (literal HPACK, so each case is exactly the bytes it names).
/// What a real runtime answers is covered by the live suites (ContainerdTests, CRIPodsTests, CRIOTests).
@Suite struct UnixGRPCTests {
    static let method = CRIClient.Method.listPodSandbox

    static func sandboxes(_ ids: [String]) -> Runtime_V1_ListPodSandboxResponse {
        var r = Runtime_V1_ListPodSandboxResponse()
        r.items = ids.map { var s = Runtime_V1_PodSandbox(); s.id = $0; return s }
        return r
    }

    /// The status error one call ends with (nil when it succeeds).
    static func failure(_ respond: @escaping @Sendable (UInt32) -> [UInt8]?, maxResponse: Int = 1 << 20,
                        timeout: Duration = .seconds(5)) throws -> GRPCStatusError? {
        let peer = try Peer(respond: respond)
        let client = try #require(UnixGRPCConnection.adopting(fd: peer.clientFD, timeout: timeout, maxResponseBytes: maxResponse))
        do {
            _ = try client.call(method, Runtime_V1_ListPodSandboxRequest())
            return nil
        } catch let error as GRPCStatusError {
            return error
        }
    }

    // ---- answers --------------------------------------------------------------------------------

    @Test func severalCallsOnOneConnection() throws {
        let peer = try Peer { stream in
            let response = UnixGRPCTests.sandboxes(["sb-\(stream)", String(repeating: "x", count: 40_000)])
            let bytes: [UInt8] = (try? response.serializedBytes()) ?? []
            return answer(stream, bytes)
        }
        let client = try #require(UnixGRPCConnection.adopting(fd: peer.clientFD, timeout: .seconds(5)))
        for stream: UInt32 in [1, 3, 5] {
            let response = try client.call(Self.method, Runtime_V1_ListPodSandboxRequest(), metadata: [("containerd-namespace", "k8s.io")])
            let ids: [String] = response.items.map { $0.id }
            #expect(ids == ["sb-\(stream)", String(repeating: "x", count: 40_000)])
        }
        // Each request: HEADERS then DATA with END_STREAM, on streams 1, 3, 5.
        let ended: [UInt32] = peer.frames.filter { $0.0 == 0 && $0.1 & 1 == 1 }.map { $0.2 }
        #expect(ended == [1, 3, 5])
    }

    @Test func emptyResponseMessage() throws {
        let peer = try Peer { answer($0, []) }
        let client = try #require(UnixGRPCConnection.adopting(fd: peer.clientFD, timeout: .seconds(5)))
        #expect(try client.call(Self.method, Runtime_V1_ListPodSandboxRequest()).items.isEmpty)
    }

    @Test func trailersOnlyStatusWithPercentEncodedMessage() throws {
        let error = try Self.failure { stream in
            headers(stream, okHeaders + [("grpc-status", "5"), ("grpc-message", "container%20%22abc%22%20not%20found%3A%20%E2%9C%93%zz")],
                    endStream: true)
        }
        #expect(error?.code == .notFound)
        #expect(error?.message == "container \"abc\" not found: ✓%zz")
    }

    @Test func statusInTrailersAfterHeaders() throws {
        let error = try Self.failure { stream in
            headers(stream, okHeaders, endStream: false) + headers(stream, [("grpc-status", "12"), ("grpc-message", "nope")], endStream: true)
        }
        #expect(error.map { "\($0)" } == "unimplemented: nope")
        // A status number gRPC does not define is `unknown`.
        #expect(try Self.failure { headers($0, okHeaders + [("grpc-status", "99")], endStream: true) }?.code == .unknown)
    }

    // ---- what goes wrong ------------------------------------------------------------------------

    @Test func httpStatusOtherThan200() throws {
        let unavailable = try Self.failure { headers($0, [(":status", "503"), ("content-type", "text/plain")], endStream: true) }
        #expect(unavailable?.code == .unavailable && unavailable?.message == "HTTP status 503")
        #expect(try Self.failure { headers($0, [(":status", "404")], endStream: true) }?.code == .unimplemented)
    }

    @Test func missingStatusAndWrongContentType() throws {
        let noStatus = try Self.failure { headers($0, okHeaders, endStream: false) + data($0, message([]), endStream: true) }
        #expect(noStatus?.code == .internal && noStatus?.message.contains("grpc-status") == true)
        let html = try Self.failure { headers($0, [(":status", "200"), ("content-type", "text/html"), ("grpc-status", "0")], endStream: true) }
        #expect(html?.code == .unknown && html?.message.contains("content-type") == true)
    }

    @Test func compressedMessageIsAnError() throws {
        let error = try Self.failure { stream in
            headers(stream, okHeaders, endStream: false) + data(stream, message([1, 2, 3], flag: 1), endStream: false)
                + headers(stream, [("grpc-status", "0")], endStream: true)
        }
        #expect(error?.code == .internal && error?.message.contains("compressed") == true)
    }

    @Test func framingErrors() throws {
        func ending(_ body: [UInt8]) throws -> GRPCStatusError? {
            try Self.failure { stream in
                headers(stream, okHeaders, endStream: false) + data(stream, body, endStream: false)
                    + headers(stream, [("grpc-status", "0")], endStream: true)
            }
        }
        #expect(try ending([])?.message == "no response message")
        #expect(try ending([0, 0, 0])?.message == "truncated message prefix")
        #expect(try ending(message([1, 2], length: 10))?.message.contains("truncated response message") == true)
        #expect(try ending(message([]) + message([]))?.message.contains("more than one") == true)
        #expect(try ending([7, 0, 0, 0, 0])?.code == .internal)
    }

    @Test func responseOverTheCap() throws {
        // Bytes over the cap: the stream is reset and the call fails, nothing of it kept.
        let over = try Self.failure({ stream in
            headers(stream, okHeaders, endStream: false) + data(stream, message([UInt8](repeating: 7, count: 2000)), endStream: false)
                + headers(stream, [("grpc-status", "0")], endStream: true)
        }, maxResponse: 1000)
        #expect(over.map { "\($0)" } == "resourceExhausted: response over 1000 bytes")
        // A message announcing more than the cap (64 MiB by default) is refused from its prefix.
        let announced = try Self.failure { stream in
            headers(stream, okHeaders, endStream: false) + data(stream, message([], length: 0x0500_0000), endStream: false)
                + headers(stream, [("grpc-status", "0")], endStream: true)
        }
        #expect(announced.map { "\($0)" } == "resourceExhausted: response message of 83886080 bytes, over 1048576")
    }

    @Test func resetStreamAndGoAway() throws {
        let refused = try Self.failure { frame(3, 0, $0, [0, 0, 0, 7]) } // RST_STREAM REFUSED_STREAM
        #expect(refused?.code == .unavailable && refused?.message.contains("RST_STREAM") == true)
        let cancelled = try Self.failure { frame(3, 0, $0, [0, 0, 0, 8]) }
        #expect(cancelled?.code == .cancelled)
        // GOAWAY with last stream 0: the request was not processed.
        let away = try Self.failure { _ in frame(7, 0, 0, [0, 0, 0, 0, 0, 0, 0, 0]) }
        #expect(away?.code == .unavailable && away?.message.contains("GOAWAY") == true)
    }

    @Test func connectionClosedOrGarbage() throws {
        let peer = try Peer(closeAfterAnswers: true) { headers($0, okHeaders, endStream: false) }
        let client = try #require(UnixGRPCConnection.adopting(fd: peer.clientFD, timeout: .seconds(5)))
        let closed = #expect(throws: GRPCStatusError.self) { try client.call(Self.method, Runtime_V1_ListPodSandboxRequest()) }
        #expect(closed.map { "\($0)" } == "unavailable: the runtime closed the connection")
        peer.done.wait()
        let garbage = try Self.failure { _ in Array("HTTP/1.1 400 Bad Request\r\n\r\n".utf8) }
        #expect(garbage?.code == .internal && garbage?.message.contains("HTTP/2") == true)
    }

    @Test func peerThatNeverAnswersFailsWithinTheDeadline() throws {
        let peer = try Peer { _ in nil }
        let client = try #require(UnixGRPCConnection.adopting(fd: peer.clientFD, timeout: .milliseconds(300)))
        let start = ContinuousClock.now
        let error = #expect(throws: GRPCStatusError.self) { try client.call(Self.method, Runtime_V1_ListPodSandboxRequest()) }
        #expect(error.map { "\($0)" } == "deadlineExceeded: no answer within 300 ms")
        #expect(ContinuousClock.now - start < .seconds(2))
        // The connection takes no further call: it fails at once.
        let again = ContinuousClock.now
        #expect(throws: GRPCStatusError.self) { try client.call(Self.method, Runtime_V1_ListPodSandboxRequest()) }
        #expect(ContinuousClock.now - again < .milliseconds(100))
    }

    // ---- sockets --------------------------------------------------------------------------------

    @Test func deadAndSilentSockets() throws {
        let dir = try TemporaryDirectory()
        // No file at all, and a socket file nobody listens on: refused at once, named by the caller.
        for path in [dir.file("missing.sock"), try Self.deadSocket(dir.file("dead.sock"))] {
            let start = ContinuousClock.now
            let error = #expect(throws: GRPCCallFailure.self) {
                try CRIClient(socketPath: path, scheme: "containerd", timeout: .seconds(3)).pods()
            }
            #expect(error?.description.hasPrefix("CRI at \(path): unavailable: connect: ") == true)
            #expect(ContinuousClock.now - start < .seconds(1))
        }
        // A socket that accepts connections (the backlog) but never answers: the deadline, not a hang.
        let silent = dir.file("silent.sock")
        let fd = try Self.listeningSocket(silent)
        defer { close(fd) }
        let start = ContinuousClock.now
        let error = #expect(throws: GRPCCallFailure.self) {
            try ContainerdClient(socketPath: silent, timeout: .milliseconds(500)).namespaces()
        }
        #expect(error?.description == "containerd at \(silent): deadlineExceeded: no answer within 500 ms")
        let took = ContinuousClock.now - start
        #expect(took >= .milliseconds(450) && took < .seconds(3))
    }

    static func listeningSocket(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8.prefix(raw.count - 1)) + [0])
        }
        let bound = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { close(fd); throw POSIXError(.EADDRINUSE) }
        return fd
    }

    /// A socket file whose listener is gone (connect: refused).
    static func deadSocket(_ path: String) throws -> String {
        close(try listeningSocket(path))
        return path
    }
}
