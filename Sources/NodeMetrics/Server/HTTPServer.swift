import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix

/// The HTTP/1.1 server: SwiftNIO with one event loop, each request answered by the router.
/// Requests larger than `maxBodyBytes` are refused (413) and malformed ones get NIO's 400; neither
/// reaches the router. Idle connections are closed after `idleTimeout`. Responses of 1 KiB and more
/// are gzip-compressed when the client accepts it (swift-nio-extras).
public final class HTTPServer: Sendable {
    public let router: APIRouter
    public let maxBodyBytes: Int
    public let idleTimeout: TimeAmount
    private let group: MultiThreadedEventLoopGroup

    public init(router: APIRouter, maxBodyBytes: Int = 1 << 20, idleTimeout: TimeAmount = .seconds(60)) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    /// Binds and starts accepting; the returned channel closes when the server stops.
    public func bind(host: String, port: Int) async throws -> Channel {
        let router = self.router, maxBody = maxBodyBytes, idle = idleTimeout
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPResponseCompressor(initialByteBufferCapacity: 64 * 1024,
                                               responseCompressionPredicate: HTTPServer.shouldCompress))
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(router: router, maxBodyBytes: maxBody))
                }
            }
            .bind(host: host.isEmpty ? "0.0.0.0" : host, port: port).get()
    }

    /// gzip (when the client accepts it) for bodies of 1 KiB and more; never for event streams.
    static func shouldCompress(_ head: inout HTTPResponseHead, _ supported: Bool) -> HTTPResponseCompressor.CompressionIntent {
        if head.headers["Transfer-Encoding"].contains("chunked") { return .doNotCompress }
        if let length = head.headers["Content-Length"].first.flatMap({ Int($0) }), length < 1024 { return .doNotCompress }
        return .compressIfPossible
    }

    public func shutdown() async throws {
        try await group.shutdownGracefully()
    }
}

/// Collects one request, asks the router, writes the response.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let router: APIRouter
    let maxBodyBytes: Int
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// True while an event stream is being sent: the connection is then quiet on purpose.
    private var streaming = false

    init(router: APIRouter, maxBodyBytes: Int) {
        self.router = router
        self.maxBodyBytes = maxBodyBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > maxBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let response: HTTPResponse
            if tooLarge {
                response = .text(413, "request body larger than \(maxBodyBytes) bytes")
            } else {
                let request = HTTPRequest(method: "\(head.method)", uri: head.uri, body: body,
                                          headers: head.headers.map { ($0.name, $0.value) })
                response = router.handle(request)
            }
            write(response, keepAlive: head.isKeepAlive && !tooLarge, version: head.version, context: context)
        }
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        if let events = response.eventStream {
            stream(events, status: response.status, version: version, context: context)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        for (k, v) in response.headers { headers.add(name: k, value: v) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        var buffer = context.channel.allocator.buffer(capacity: response.body.count)
        buffer.writeBytes(response.body)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            let channel = context.channel
            done.whenComplete { _ in channel.close(promise: nil) }
        }
    }

    /// Sends events as newline-delimited JSON in chunks, one flush per event, until the client closes
    /// the connection (which ends the subscription).
    private func stream(_ events: AsyncStream<ContainerEvent>, status: Int, version: HTTPVersion, context: ChannelHandlerContext) {
        streaming = true
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Transfer-Encoding", value: "chunked")
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: status), headers: headers)
        context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
        let channel = context.channel
        let task = Task {
            for await event in events {
                var w = JSONWriter(capacity: 256)
                CAdvisorV1Info.writeEvent(event, &w)
                var buffer = channel.allocator.buffer(capacity: w.bytes.count + 1)
                buffer.writeBytes(w.bytes)
                buffer.writeInteger(UInt8(ascii: "\n"))
                try? await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer)))
            }
        }
        channel.closeFuture.whenComplete { _ in task.cancel() }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is IdleStateHandler.IdleStateEvent, streaming {
            return // a streaming client sends nothing while it listens
        } else if event is IdleStateHandler.IdleStateEvent {
            context.close(promise: nil) // a slow or idle client
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
