import CCgroupFast
import SwiftProtobuf

/// A failed gRPC call to a runtime: the socket cannot be reached, or the runtime answered with an error.
public struct GRPCCallFailure: Error, CustomStringConvertible {
    public var description: String
}

/// A gRPC status code, named as gRPC names them (`unavailable`, `deadlineExceeded`, …).
public enum GRPCStatusCode: Int32, Sendable, CustomStringConvertible {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists, permissionDenied,
         resourceExhausted, failedPrecondition, aborted, outOfRange, unimplemented, `internal`, unavailable, dataLoss,
         unauthenticated

    public var description: String {
        ["ok", "cancelled", "unknown", "invalidArgument", "deadlineExceeded", "notFound", "alreadyExists",
         "permissionDenied", "resourceExhausted", "failedPrecondition", "aborted", "outOfRange", "unimplemented",
         "internal", "unavailable", "dataLoss", "unauthenticated"][Int(rawValue)]
    }
}

/// A call that ended with a status other than `ok`: the runtime's (grpc-status, grpc-message) or the
/// client's own for what went wrong on the way (unreachable socket, deadline, reset stream, bad framing).
struct GRPCStatusError: Error, CustomStringConvertible {
    var code: GRPCStatusCode
    var message: String
    var description: String { "\(code): \(message)" }
}

/// A unary method of a gRPC service: its path (`/package.Service/Method`) and message types.
struct GRPCMethod<Request: SwiftProtobuf.Message, Response: SwiftProtobuf.Message>: Sendable {
    let path: String
    init(_ path: String) { self.path = path }
}

/// One HTTP/2 connection to a runtime's gRPC socket (the C core's client, libnghttp2): unary calls one
/// after another, each with its own deadline, called from a plain thread.
final class UnixGRPCConnection {
    /// The largest response message accepted by default (a node's whole container list is a few MiB).
    static let defaultMaxResponseBytes = 64 << 20

    private let handle: OpaquePointer
    let timeout: Duration
    /// A larger response message is an error (`resourceExhausted`), not an allocation.
    let maxResponseBytes: Int

    fileprivate init(handle: OpaquePointer, timeout: Duration, maxResponseBytes: Int = defaultMaxResponseBytes) {
        self.handle = handle
        self.timeout = timeout
        self.maxResponseBytes = max(0, maxResponseBytes)
    }

    deinit { cgf_grpc_close(handle) }

    /// Connects to the unix socket at `path` within `timeout`.
    static func connect(path: String, timeout: Duration) throws(GRPCStatusError) -> UnixGRPCConnection {
        var status: Int32 = 0
        var err = [CChar](repeating: 0, count: 256)
        guard let handle = cgf_grpc_connect(path, milliseconds(timeout), &status, &err, err.count) else {
            throw GRPCStatusError(code: GRPCStatusCode(rawValue: status) ?? .unknown,
                                  message: String(nulTerminated: err))
        }
        return UnixGRPCConnection(handle: handle, timeout: timeout)
    }

    /// A client on an already connected socket (tests: one end of a socketpair); the connection owns `fd`.
    static func adopting(fd: Int32, timeout: Duration, maxResponseBytes: Int = defaultMaxResponseBytes) -> UnixGRPCConnection? {
        cgf_grpc_open_fd(fd).map { UnixGRPCConnection(handle: $0, timeout: timeout, maxResponseBytes: maxResponseBytes) }
    }

    /// Calls `method` with `request` and `metadata` (lowercase names); the response, or the status as an error.
    func call<Request, Response>(_ method: GRPCMethod<Request, Response>, _ request: Request,
                                 metadata: [(String, String)] = []) throws -> Response {
        let bytes: [UInt8] = try request.serializedBytes()
        var result = cgf_grpc_result()
        defer { cgf_grpc_free(result.data) }
        let timeoutMs = Self.milliseconds(timeout)
        func call(_ pairs: UnsafePointer<UnsafePointer<CChar>?>?) {
            bytes.withUnsafeBytes { raw in
                _ = cgf_grpc_unary(handle, method.path, pairs, pairs == nil ? 0 : metadata.count, raw.baseAddress, raw.count,
                                   timeoutMs, maxResponseBytes, &result)
            }
        }
        if metadata.isEmpty {
            call(nil)
        } else {
            Sandbox.withArrayOfCStrings(metadata.flatMap { [$0.0, $0.1] }) { call($0) }
        }
        guard result.status == 0 else {
            let message = withUnsafeBytes(of: result.message) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            throw GRPCStatusError(code: GRPCStatusCode(rawValue: result.status) ?? .unknown, message: message)
        }
        let response = UnsafeRawBufferPointer(start: result.data, count: result.len)
        return try Response(serializedBytes: Array(response))
    }

    /// `timeout` in whole milliseconds, at least 1, at most a day.
    static func milliseconds(_ timeout: Duration) -> Int32 {
        Int32(min(max(1, timeout.nanoseconds / 1_000_000), 86_400_000))
    }
}

/// gRPC over a runtime's unix socket (containerd's API, the CRI of containerd and CRI-O), called from
/// a plain thread: every wait is bounded by the call's deadline.
enum UnixGRPC {
    /// Runs `body` with a connected client; one connection per batch of calls. `what` names the
    /// runtime in errors ("containerd", "CRI"): "containerd at <path>: <code>: <message>".
    static func withClient<T>(socketPath path: String, timeout: Duration, what: String,
                              _ body: (UnixGRPCConnection) throws -> T) throws(GRPCCallFailure) -> T {
        do {
            let connection = try UnixGRPCConnection.connect(path: path, timeout: timeout)
            return try body(connection)
        } catch let error as GRPCStatusError {
            throw GRPCCallFailure(description: "\(what) at \(path): \(error.code): \(error.message)")
        } catch {
            throw GRPCCallFailure(description: "\(what) at \(path): \(error)")
        }
    }
}
