import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
#if canImport(Glibc)
import Glibc
#endif

/// Where a runtime's HTTP API listens: a unix socket (`unix:///var/run/docker.sock` or a plain path),
/// or TCP (`-docker=tcp://host:port`), with TLS when client certificates are given (`-docker-tls`).
public enum HTTPEndpoint: Sendable, Equatable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: Int, tls: TLSClient?)

    /// A bad `-docker` value.
    public struct Invalid: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// Parses a flag value: `tcp://host:port` (IPv6 hosts in brackets), `unix://path` or a path.
    public static func parse(_ value: String, tls: TLSClient? = nil) throws(Invalid) -> HTTPEndpoint {
        guard value.hasPrefix("tcp://") else {
            if tls != nil { throw Invalid(description: "\(value): TLS needs a tcp://host:port endpoint") }
            return .unix(path: RuntimeEndpoints.socketPath(value))
        }
        var rest = value.dropFirst("tcp://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring, portText: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            portText = rest[rest.index(after: close)...].drop { $0 == ":" }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            throw Invalid(description: "\(value): no port (tcp://host:port)")
        }
        guard !host.isEmpty, let port = Int(portText), (1...65535).contains(port) else {
            throw Invalid(description: "\(value): not tcp://host:port with a port of 1-65535")
        }
        return .tcp(host: String(host), port: port, tls: tls)
    }

    public var description: String {
        switch self {
        case .unix(let path): path
        case .tcp(let host, let port, let tls): "\(tls == nil ? "tcp" : "tcp+tls")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        }
    }

    /// A connected, blocking stream socket to the endpoint with `timeout` on each send and receive.
    /// Over TLS it is one end of a socketpair whose other end swift-nio-ssl relays to the server.
    func connect(timeout: Duration) throws(UnixHTTPClient.Failure) -> Int32 {
        switch self {
        case .unix(let path):
            return try Self.connectUnix(path, timeout: timeout)
        case .tcp(let host, let port, nil):
            return try Self.connectTCP(host, port, timeout: timeout)
        case .tcp(let host, let port, let tls?):
            return try tls.connect(host: host, port: port, timeout: timeout)
        }
    }

    static func setTimeouts(_ fd: Int32, _ timeout: Duration) {
        let micros = timeout.nanoseconds / 1000
        var tv = timeval(tv_sec: Int(micros / 1_000_000), tv_usec: Int(micros % 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    static func connectUnix(_ socketPath: String, timeout: Duration) throws(UnixHTTPClient.Failure) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .init(description: "socket: \(String(cString: strerror(errno)))") }
        setTimeouts(fd, timeout)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let path = Array(socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: addr.sun_path) else {
            close(fd)
            throw .init(description: "\(socketPath): path too long")
        }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            for (i, b) in path.enumerated() { raw[i] = b }
            raw[path.count] = 0
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            let e = errno
            close(fd)
            throw .init(description: "\(socketPath): \(String(cString: strerror(e)))")
        }
        return fd
    }

    /// Plain TCP: the first address getaddrinfo gives that accepts the connection.
    static func connectTCP(_ host: String, _ port: Int, timeout: Duration) throws(UnixHTTPClient.Failure) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw .init(description: "tcp://\(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = ECONNREFUSED
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let ai = next {
            next = ai.pointee.ai_next
            let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            setTimeouts(fd, timeout)
            if Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 { return fd }
            lastError = errno
            close(fd)
        }
        throw .init(description: "tcp://\(host):\(port): \(String(cString: strerror(lastError)))")
    }
}

/// The paths of `-docker-tls-cert`, `-docker-tls-key` and `-docker-tls-ca` (PEM files).
public struct TLSFiles: Sendable, Equatable {
    public var certificate: String
    public var privateKey: String
    public var certificateAuthority: String

    public init(certificate: String, privateKey: String, certificateAuthority: String) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.certificateAuthority = certificateAuthority
    }
}

/// A TLS client (swift-nio-ssl) as Docker's Go client makes it with `-docker-tls`: it presents the
/// client certificate and trusts only the given CA for the server's certificate, whose name must
/// match the host. The blocking HTTP client reads and writes one end of a socketpair; an event loop
/// relays the other end through TLS to the server.
public final class TLSClient: Sendable, Equatable, CustomStringConvertible {
    public let files: TLSFiles
    let context: NIOSSLContext
    private let group: any EventLoopGroup

    /// A certificate, key or CA that cannot be read or parsed.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Loads and checks the three files now, so a bad one stops start-up naming it.
    public init(files: TLSFiles) throws(Invalid) {
        self.files = files
        var config = TLSConfiguration.makeClientConfiguration()
        do {
            config.certificateChain = try NIOSSLCertificate.fromPEMFile(files.certificate).map { .certificate($0) }
        } catch {
            throw Invalid(description: "\(files.certificate): not a PEM certificate (\(error))")
        }
        do {
            config.privateKey = .privateKey(try NIOSSLPrivateKey(file: files.privateKey, format: .pem))
        } catch {
            throw Invalid(description: "\(files.privateKey): not a PEM private key (\(error))")
        }
        do {
            config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(files.certificateAuthority))
        } catch {
            throw Invalid(description: "\(files.certificateAuthority): not a PEM CA certificate (\(error))")
        }
        do {
            context = try NIOSSLContext(configuration: config)
        } catch {
            throw Invalid(description: "TLS client configuration: \(error)")
        }
        group = MultiThreadedEventLoopGroup.singleton
    }

    /// A TLS client that presents no certificate and verifies the server's certificate (and name)
    /// against `caFile`, or the system's trust roots when nil (`-storage_driver_secure`).
    public init(verifyingServerWith caFile: String?) throws(Invalid) {
        files = TLSFiles(certificate: "", privateKey: "", certificateAuthority: caFile ?? "")
        var config = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                config.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw Invalid(description: "\(caFile): not a PEM CA certificate (\(error))")
            }
        }
        do {
            context = try NIOSSLContext(configuration: config)
        } catch {
            throw Invalid(description: "TLS client configuration: \(error)")
        }
        group = MultiThreadedEventLoopGroup.singleton
    }

    public static func == (a: TLSClient, b: TLSClient) -> Bool { a === b }
    public var description: String { "TLS(cert \(files.certificate), key \(files.privateKey), CA \(files.certificateAuthority))" }

    func connect(host: String, port: Int, timeout: Duration) throws(UnixHTTPClient.Failure) -> Int32 {
        let name = "tcp+tls://\(host):\(port)"
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw .init(description: "\(name): socketpair: \(String(cString: strerror(errno)))")
        }
        let loop = group.next()
        let context = context
        // An IP address is checked against the certificate's IP SANs; SNI carries names only.
        let serverName: String? = Self.isIPAddress(host) ? nil : host
        do {
            let handshake = loop.makePromise(of: Void.self)
            let remote = try ClientBootstrap(group: loop)
                .connectTimeout(.nanoseconds(timeout.nanoseconds))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture(withResultOf: {
                        let tls = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                        try channel.pipeline.syncOperations.addHandler(tls)
                        try channel.pipeline.syncOperations.addHandler(HandshakeWatcher(promise: handshake))
                    })
                }
                .connect(host: host, port: port).wait()
            let timer = loop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
                handshake.fail(UnixHTTPClient.Failure(description: "TLS handshake timed out"))
            }
            do {
                try handshake.futureResult.wait()
            } catch {
                timer.cancel()
                remote.close(promise: nil)
                throw error
            }
            timer.cancel()
            let local = try ClientBootstrap(group: loop)
                .channelOption(ChannelOptions.autoRead, value: false)
                .withConnectedSocket(fds[1]).wait()
            fds[1] = -1 // the channel owns it now
            try loop.submit {
                let (a, b) = RelayHandler.pair()
                try remote.pipeline.syncOperations.addHandler(a)
                try local.pipeline.syncOperations.addHandler(b)
                local.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in local.close(promise: nil) }
                local.read()
            }.wait()
        } catch let error as UnixHTTPClient.Failure {
            closeBoth(fds)
            throw .init(description: "\(name): \(error.description)")
        } catch {
            closeBoth(fds)
            throw .init(description: "\(name): \(error)")
        }
        HTTPEndpoint.setTimeouts(fds[0], timeout)
        return fds[0]
    }

    private func closeBoth(_ fds: [Int32]) {
        for fd in fds where fd >= 0 { close(fd) }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// Completes when the TLS handshake is done; fails with the handshake's error.
private final class HandshakeWatcher: ChannelInboundHandler {
    typealias InboundIn = NIOAny
    private let promise: EventLoopPromise<Void>
    private var done = false
    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, !done {
            done = true
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !done {
            done = true
            promise.fail(error)
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            promise.fail(UnixHTTPClient.Failure(description: "connection closed during the TLS handshake"))
        }
        context.fireChannelInactive()
    }
}

/// Relays bytes between two channels on one event loop (NIO's glue handler): what one reads the
/// other writes; when one side ends, the other is closed once what it was given is written.
private final class RelayHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: RelayHandler?
    private var context: ChannelHandlerContext?

    static func pair() -> (RelayHandler, RelayHandler) {
        let a = RelayHandler(), b = RelayHandler()
        a.partner = b
        b.partner = a
        return (a, b)
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        partner?.context?.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        partner?.context?.flush()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if let other = partner?.context {
            // Writes complete in order: the empty one completes after everything relayed before it.
            let channel = other.channel
            other.writeAndFlush(NIOAny(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
        partner = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
