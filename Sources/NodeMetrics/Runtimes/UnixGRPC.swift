import GRPCCore
import GRPCNIOTransportHTTP2Posix
import Synchronization

/// A failed gRPC call to a runtime: the socket cannot be reached, or the runtime answered with an error.
public struct GRPCCallFailure: Error, CustomStringConvertible {
    public var description: String
}

/// gRPC over a runtime's unix socket (containerd's API, the CRI of containerd and CRI-O), called from
/// a plain thread: the calls run in a Task, the caller waits on a semaphore with a deadline.
enum UnixGRPC {
    /// Runs `body` with a connected client; one connection per batch of calls. `what` names the
    /// runtime in errors ("containerd", "CRI").
    static func withClient<T: Sendable>(socketPath path: String, timeout: Duration, what: String,
                                        _ body: @Sendable @escaping (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T)
        throws(GRPCCallFailure) -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let done = Semaphore()
        Task {
            do {
                let transport = try HTTP2ClientTransport.Posix(target: .unixDomainSocket(path: path, authority: "localhost"),
                                                               transportSecurity: .plaintext)
                let value = try await withGRPCClient(transport: transport) { client in try await body(client) }
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            done.signal()
        }
        // The call options carry the deadline; this wait only guards against a transport that never returns.
        let ms = Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000)
        guard done.wait(timeoutMs: ms * 2 + 1000) else { throw GRPCCallFailure(description: "\(what) at \(path): no answer") }
        switch result.withLock({ $0 }) {
        case .success(let v): return v
        case .failure(let error as RPCError): throw GRPCCallFailure(description: "\(what) at \(path): \(error.code): \(error.message)")
        case .failure(let error): throw GRPCCallFailure(description: "\(what) at \(path): \(error)")
        case nil: throw GRPCCallFailure(description: "\(what) at \(path): no answer")
        }
    }

    /// Call options with `timeout` as the deadline.
    static func callOptions(timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }
}
