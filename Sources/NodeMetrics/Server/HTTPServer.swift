import NIOCore
import NIOHTTP1
import NIOHTTPCompression
import NIOPosix
import NIOSSL
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The HTTP/1.1 server: SwiftNIO event loops that only parse, route and write; the router's work
/// runs on two worker pools (scrapes, and the rest of the API at a lower CPU priority) under
/// per-endpoint limits (`Workload`), so `/healthz` and `/metrics` answer while slow requests run.
/// Requests larger than `maxBodyBytes` are refused (413) and malformed ones get NIO's 400; neither
/// reaches the router. A request must arrive whole within `requestTimeout` of its first byte;
/// idle keep-alive connections close after `idleTimeout`. Responses of 1 KiB and more are
/// gzip-compressed when the client accepts it (swift-nio-extras). With `tls`, every connection runs
/// TLS first (swift-nio-ssl) with the certificate loaded last (`TLSCertificates`).
public final class HTTPServer: Sendable {
    public let router: APIRouter
    public let maxBodyBytes: Int
    public let idleTimeout: TimeAmount
    public let requestTimeout: TimeAmount
    public let limits: ServingLimits
    /// nil: plain HTTP.
    public let tls: TLSCertificates?
    private let group: MultiThreadedEventLoopGroup
    private let pools: WorkerPools
    private let limiter = ConcurrencyLimiter()

    /// - Parameters:
    ///   - eventLoops: threads that accept, parse and write (default: one per core, at most 4).
    ///   - workers: threads of each worker pool (scrape and API).
    public init(router: APIRouter, maxBodyBytes: Int = 1 << 20, idleTimeout: TimeAmount = .seconds(60),
                requestTimeout: TimeAmount = .seconds(10), limits: ServingLimits = ServingLimits(),
                eventLoops: Int = min(max(System.coreCount, 1), 4), workers: Int = 2, tls: TLSCertificates? = nil) {
        self.router = router
        self.tls = tls
        self.maxBodyBytes = maxBodyBytes
        self.idleTimeout = idleTimeout
        self.requestTimeout = requestTimeout
        self.limits = limits
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(eventLoops, 1))
        pools = WorkerPools(scrape: NIOThreadPool(numberOfThreads: max(workers, 1)),
                            api: NIOThreadPool(numberOfThreads: max(workers, 1)))
        pools.scrape.start()
        pools.api.start()
    }

    /// Binds and starts accepting; the returned channel closes when the server stops.
    public func bind(host: String, port: Int) async throws -> Channel {
        let context = ServingContext(router: router, maxBodyBytes: maxBodyBytes, limits: limits, pools: pools,
                                     limiter: limiter, renderings: SharedRenderings())
        let idle = idleTimeout, requestTimeout = requestTimeout, tls = tls
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(tls.makeHandler()) }
                    let deadline = RequestDeadlineHandler(timeout: requestTimeout)
                    try channel.pipeline.syncOperations.addHandler(deadline)
                    try channel.pipeline.syncOperations.addHandler(IdleStateHandler(readTimeout: idle))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        HTTPResponseCompressor(initialByteBufferCapacity: 64 * 1024,
                                               responseCompressionPredicate: HTTPServer.shouldCompress))
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(serving: context, deadline: deadline,
                                                                                   verifiesClients: tls?.verifiesClients ?? false))
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
        try await pools.scrape.shutdownGracefully()
        try await pools.api.shutdownGracefully()
    }
}

/// The two worker pools.
struct WorkerPools: Sendable {
    let scrape: NIOThreadPool
    let api: NIOThreadPool
}

/// What every connection's handler shares.
struct ServingContext: Sendable {
    let router: APIRouter
    let maxBodyBytes: Int
    let limits: ServingLimits
    let pools: WorkerPools
    let limiter: ConcurrencyLimiter
    let renderings: SharedRenderings
}

/// Requests for the same target that arrive while its answer is being computed wait for that
/// answer instead of computing their own: fifty Prometheus servers scraping at once cost one
/// rendering, not fifty (the answer is at most one rendering older than the request).
final class SharedRenderings: Sendable {
    private let waiting = Mutex<[String: [EventLoopPromise<HTTPResponse>]]>([:])

    func response(for key: String, on loop: EventLoop,
                  _ compute: @Sendable () -> EventLoopFuture<HTTPResponse>) -> EventLoopFuture<HTTPResponse> {
        let promise = loop.makePromise(of: HTTPResponse.self)
        let first = waiting.withLock { waiting -> Bool in
            if var joined = waiting[key] {
                joined.append(promise)
                waiting[key] = joined
                return false
            }
            waiting[key] = [promise]
            return true
        }
        if first {
            compute().whenComplete { [self] result in
                let promises = waiting.withLock { $0.removeValue(forKey: key) } ?? []
                var shared = result
                if promises.count > 1, case .success(var response) = result {
                    // One buffer for every connection (a ByteBuffer is copied on write only).
                    var buffer = ByteBufferAllocator().buffer(capacity: response.body.count)
                    buffer.writeBytes(response.body)
                    response.sharedBuffer = buffer
                    response.body = []
                    shared = .success(response)
                }
                for p in promises { p.completeWith(shared) }
            }
        }
        return promise.futureResult
    }
}

/// Counts requests in flight per endpoint; an endpoint at its limit takes no more.
final class ConcurrencyLimiter: Sendable {
    private let inFlight = Mutex<[String: Int]>([:])

    /// Takes a place for `endpoint`; false when `limit` are already in flight.
    func acquire(_ endpoint: String, limit: Int) -> Bool {
        inFlight.withLock { counts in
            let n = counts[endpoint, default: 0]
            guard n < limit else { return false }
            counts[endpoint] = n + 1
            return true
        }
    }

    /// Gives a place back (an endpoint with none in flight is forgotten: keys never pile up).
    func release(_ endpoint: String) {
        inFlight.withLock { counts in
            let n = counts[endpoint, default: 0]
            counts[endpoint] = n > 1 ? n - 1 : nil
        }
    }
}

/// Closes a connection whose request (head and body) has not arrived whole within `timeout` of its
/// first byte: a client that sends half a request and stalls holds nothing for long.
final class RequestDeadlineHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let timeout: TimeAmount
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount) { self.timeout = timeout }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if deadline == nil {
            let channel = context.channel
            deadline = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        }
        context.fireChannelRead(data)
    }

    /// The request arrived whole: the next one gets a deadline of its own.
    func requestComplete() {
        deadline?.cancel()
        deadline = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        requestComplete()
        context.fireChannelInactive()
    }
}

/// Collects one request, runs it where its `Workload` says, writes the response.
final class RequestHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let serving: ServingContext
    let deadline: RequestDeadlineHandler
    private var head: HTTPRequestHead?
    private var body: [UInt8] = []
    private var tooLarge = false
    /// True while an event stream is being sent: the connection is then quiet on purpose.
    private var streaming = false
    /// TLS asks this connection's client for a certificate (`-tls_client_ca_file`).
    let verifiesClients: Bool

    init(serving: ServingContext, deadline: RequestDeadlineHandler, verifiesClients: Bool = false) {
        self.serving = serving
        self.deadline = deadline
        self.verifiesClients = verifiesClients
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            body.removeAll(keepingCapacity: true)
            tooLarge = false
        case .body(var buffer):
            if body.count + buffer.readableBytes > serving.maxBodyBytes {
                tooLarge = true
            } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body.append(contentsOf: bytes)
            }
        case .end:
            deadline.requestComplete()
            guard let head else { return }
            self.head = nil
            let keepAlive = head.isKeepAlive && !tooLarge
            if tooLarge {
                write(.text(413, "request body larger than \(serving.maxBodyBytes) bytes"), keepAlive: keepAlive,
                      version: head.version, context: context)
                return
            }
            var request = HTTPRequest(method: "\(head.method)", uri: head.uri, body: body,
                                      headers: head.headers.map { ($0.name, $0.value) })
            // The handshake refuses a certificate that does not chain to the client CAs: one that is
            // here was verified.
            if verifiesClients {
                request.clientCertificateVerified =
                    (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate) != nil
            }
            run(request, keepAlive: keepAlive, version: head.version, context: context)
        }
    }

    private func run(_ request: HTTPRequest, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        let router = serving.router, limiter = serving.limiter
        let work = router.workload(request, limits: serving.limits)
        if work.pool == .inline {
            write(router.handle(request), keepAlive: keepAlive, version: version, context: context)
            return
        }
        guard limiter.acquire(work.endpoint, limit: work.limit) else {
            let refusal = HTTPResponse(status: 503,
                                       body: Array("too many requests to \(work.endpoint) in flight (limit \(work.limit)); retry later\n".utf8),
                                       headers: [("Retry-After", "1")])
            write(refusal, keepAlive: keepAlive, version: version, context: context)
            return
        }
        let pool = work.pool == .scrape ? serving.pools.scrape : serving.pools.api
        let lowerPriority = work.pool == .api
        let loop = context.eventLoop
        let compute: @Sendable () -> EventLoopFuture<HTTPResponse> = {
            pool.runIfActive(eventLoop: loop) { () -> HTTPResponse in
                if lowerPriority { WorkerPriority.lower() }
                return router.handle(request)
            }
        }
        let done = work.shareable ? serving.renderings.response(for: request.uri, on: loop, compute) : compute()
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        done.whenComplete { result in
            let (handler, context) = bound.value
            var response: HTTPResponse
            switch result {
            case .success(let r): response = r
            case .failure: response = .text(503, "the server is shutting down\n")
            }
            if work.isStream && response.eventStream != nil {
                // The place is held while the stream is open.
                context.channel.closeFuture.whenComplete { _ in limiter.release(work.endpoint) }
            } else {
                limiter.release(work.endpoint)
            }
            if response.status == 503 && response.eventStream == nil { response.headers.append(("Retry-After", "1")) }
            handler.write(response, keepAlive: keepAlive, version: version, context: context)
        }
    }

    private func write(_ response: HTTPResponse, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if let events = response.eventStream {
            stream(events, status: response.status, version: version, context: context)
            return
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.sharedBuffer?.readableBytes ?? response.body.count))
        for (k, v) in response.headers { headers.add(name: k, value: v) }
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        let buffer: ByteBuffer
        if let shared = response.sharedBuffer {
            buffer = shared
        } else {
            var own = context.channel.allocator.buffer(capacity: response.body.count)
            own.writeBytes(response.body)
            buffer = own
        }
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

/// The API pool's threads run at nice 5, below the event loops and the scrape pool: a burst of
/// slow API requests takes the CPU the scrapes and `/healthz` leave. (On Linux the nice value is a
/// thread's own, and `who = 0` is the calling thread.)
enum WorkerPriority {
    static func lower() {
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        if getpriority(which, 0) < 5 { _ = setpriority(which, 0, 5) }
    }
}
