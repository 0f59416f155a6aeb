import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `-remote_write_*`: where and how the exporter's series are pushed (Prometheus remote write 1.0).
public struct RemoteWriteConfiguration: Sendable {
    /// `-remote_write_url` (repeatable): each URL gets every request, with its own queue.
    public var urls: [String] = []
    /// `-remote_write_bearer_token_file`: `Authorization: Bearer <first line>`, re-read at each send.
    public var bearerTokenFile: String?
    /// `-remote_write_basic_auth_file`: `user:password` on its first line, re-read at each send.
    public var basicAuthFile: String?
    /// `-remote_write_ca_file`: the PEM CA https URLs are checked against (default: the system's).
    public var caFile: String?
    /// `-remote_write_interval` (default: the housekeeping interval).
    public var interval: Duration = .seconds(1)
    /// `-remote_write_external_labels=k=v,…`: added to every series that lacks them.
    public var externalLabels: [(name: String, value: String)] = []
    /// How much the queue of each URL holds, in time (`-storage_driver_buffer_duration`): oldest
    /// requests are dropped, and counted, beyond it.
    public var bufferDuration: Duration = .seconds(60)

    public init() {}

    /// A bad flag value.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Parses `k=v,k2=v2` (label names `[a-zA-Z_][a-zA-Z0-9_]*`, values non-empty).
    public static func parseExternalLabels(_ text: String) throws(Invalid) -> [(name: String, value: String)] {
        var out: [(name: String, value: String)] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            guard let eq = item.firstIndex(of: "=") else { throw Invalid(description: "-remote_write_external_labels: \"\(item)\" is not name=value") }
            let name = String(item[..<eq]), value = String(item[item.index(after: eq)...])
            let valid = name.utf8.enumerated().allSatisfy { i, b in
                b == 0x5F || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (i > 0 && b >= 0x30 && b <= 0x39)
            }
            guard !name.isEmpty, valid, !name.hasPrefix("__") else {
                throw Invalid(description: "-remote_write_external_labels: \"\(name)\" is not a label name")
            }
            guard !value.isEmpty else { throw Invalid(description: "-remote_write_external_labels: \(name) has an empty value") }
            guard !out.contains(where: { $0.name == name }) else { throw Invalid(description: "-remote_write_external_labels: \(name) given twice") }
            out.append((name, value))
        }
        return out
    }
}

/// One remote-write receiver: sends a compressed WriteRequest and says whether to retry.
public struct RemoteWriteTarget: Sendable {
    public let url: PushURL
    let bearerTokenFile: String?
    let basicAuthFile: String?
    let client: UnixHTTPClient

    /// What became of a request.
    public enum Outcome: Sendable, Equatable {
        case sent
        /// 5xx, 429 or a connection error: send it again later.
        case retry(String)
        /// Another 4xx: the receiver will never take it.
        case rejected(String)
    }

    public init(url: String, configuration: RemoteWriteConfiguration, timeout: Duration = .seconds(10)) throws(RemoteWriteConfiguration.Invalid) {
        do {
            self.url = try PushURL(url, caFile: configuration.caFile)
        } catch {
            throw .init(description: "-remote_write_url: \(error.description)")
        }
        for (flag, file) in [("-remote_write_bearer_token_file", configuration.bearerTokenFile),
                             ("-remote_write_basic_auth_file", configuration.basicAuthFile)] {
            guard let file else { continue }
            guard let line = Self.firstLine(file), !line.isEmpty else { throw .init(description: "\(flag): \(file): missing, unreadable or empty") }
            if flag.hasSuffix("basic_auth_file"), !line.includes(":") { throw .init(description: "\(flag): \(file): not user:password") }
        }
        if configuration.bearerTokenFile != nil && configuration.basicAuthFile != nil {
            throw .init(description: "-remote_write_bearer_token_file and -remote_write_basic_auth_file exclude each other")
        }
        bearerTokenFile = configuration.bearerTokenFile
        basicAuthFile = configuration.basicAuthFile
        client = UnixHTTPClient(endpoint: self.url.endpoint, timeout: timeout)
    }

    static func firstLine(_ path: String) -> String? {
        guard let text = HostFiles.read(path) else { return nil }
        return text.split(separator: "\n", omittingEmptySubsequences: false).first.map { String($0).trimmed }
    }

    /// POSTs one compressed WriteRequest.
    public func send(_ body: [UInt8]) -> Outcome {
        var headers = [url.hostHeader] + RemoteWriteEncoding.headers
        if let file = bearerTokenFile {
            guard let token = Self.firstLine(file), !token.isEmpty else { return .retry("\(file): unreadable or empty") }
            headers.append(("Authorization", "Bearer \(token)"))
        } else if let file = basicAuthFile {
            guard let pair = Self.firstLine(file), !pair.isEmpty else { return .retry("\(file): unreadable or empty") }
            headers.append(("Authorization", "Basic \(Data(pair.utf8).base64EncodedString())"))
        }
        do {
            let r = try client.request("POST", url.path, headers: headers, body: body, maxBody: 1 << 16)
            switch r.status {
            case 200..<300: return .sent
            case 429, 500...: return .retry("HTTP \(r.status): \(Self.snippet(r.body))")
            default: return .rejected("HTTP \(r.status): \(Self.snippet(r.body))")
            }
        } catch {
            return .retry(error.description)
        }
    }

    static func snippet(_ body: [UInt8]) -> String {
        String(decoding: body.prefix(200), as: UTF8.self).trimmed
    }
}

/// One URL's requests, oldest first: id (to remove the one sent even if older ones were dropped
/// meanwhile), compressed body and sample count.
final class RequestQueue: Sendable {
    let items = Mutex<[(id: UInt64, body: [UInt8], samples: Int)]>([])
}

/// Counters of one push destination, as `/metrics` and `/validate/` show them.
public final class PushCounters: Sendable {
    public let sent = Atomic<UInt64>(0)
    public let dropped = Atomic<UInt64>(0)
    public let errors = Atomic<UInt64>(0)
    public let buffered = Atomic<Int>(0)
    public let failingInARow = Atomic<Int>(0)
    public let lastError = Mutex<String?>(nil)
    public init() {}
}

/// The push paths beside the storage drivers (remote write) report here; `/metrics`
/// (`node_metrics_storage_*`) and `/validate/` read their counters with the drivers'.
public final class PushStatusBoard: Sendable {
    private let sources = Mutex<[@Sendable () -> [StorageDriverStatus]]>([])
    public init() {}
    public func add(_ source: @escaping @Sendable () -> [StorageDriverStatus]) { sources.withLock { $0.append(source) } }
    public var statuses: [StorageDriverStatus] { sources.withLock { $0 }.flatMap { $0() } }
}

/// Pushes what `/metrics` shows to remote-write receivers: every interval it collects the
/// exporter's series (the same families, metric kinds, label mode and namespace/selector filters)
/// straight into one WriteRequest stamped with the render time, without text, compresses it, and
/// queues it for every URL. Each URL has a sender thread that sends its queue
/// in order, retrying 5xx/429/connection errors with capped exponential backoff (never other 4xx);
/// a full queue drops its oldest request, counted.
public final class RemoteWriter: @unchecked Sendable {
    public let configuration: RemoteWriteConfiguration
    public let targets: [RemoteWriteTarget]
    public let counters: [PushCounters]
    private let exporter: PrometheusExporter
    private let queues: [RequestQueue]
    /// Wakes the render thread (a stop) and each sender (a request queued, or a stop).
    private let renderWake = Semaphore()
    private let sendWakes: [Semaphore]
    private let nextID = Atomic<UInt64>(0)
    private let stopping = Atomic<Bool>(false)
    /// Set by `start`, joined by `stop` (one caller: the service that runs the writer).
    private var threads: [BackgroundThread] = []
    private let logger: Logger
    /// Requests each queue holds at most.
    public let queueLimit: Int
    /// The render thread's (`render` is its only caller).
    private let builder: RemoteWriteEncoding.RequestBuilder

    /// Checks the URLs and credential files now, so a bad one stops start-up naming it. `exporter`
    /// is rendered without sample timestamps: every series of a request gets the render time, which
    /// keeps each series' samples in order for the receiver.
    public init(configuration: RemoteWriteConfiguration, exporter: PrometheusExporter,
                logger: Logger = Logger(label: "node-metrics.remote-write")) throws(RemoteWriteConfiguration.Invalid) {
        self.configuration = configuration
        var targets: [RemoteWriteTarget] = []
        for url in configuration.urls { targets.append(try RemoteWriteTarget(url: url, configuration: configuration)) }
        self.targets = targets
        counters = targets.map { _ in PushCounters() }
        queues = targets.map { _ in RequestQueue() }
        sendWakes = targets.map { _ in Semaphore() }
        var config = exporter.configuration
        config.timestamps = false
        self.exporter = PrometheusExporter(manager: exporter.manager, configuration: config, runtimes: exporter.runtimes)
        self.logger = logger
        builder = RemoteWriteEncoding.RequestBuilder(external: configuration.externalLabels)
        let intervalNanos = max(configuration.interval.nanoseconds, 1_000_000)
        queueLimit = max(2, Int(min(configuration.bufferDuration.nanoseconds / intervalNanos, 100_000)))
        exporter.manager.configuration.pushStatus.add { [weak self] in self?.statuses ?? [] }
    }

    /// Each URL's counters as the storage drivers' (`driver="remote_write"`, then `remote_write#2`, …;
    /// in samples).
    public var statuses: [StorageDriverStatus] {
        targets.indices.map { i in
            let c = counters[i]
            var s = StorageDriverStatus(name: i == 0 ? "remote_write" : "remote_write#\(i + 1)", destination: targets[i].url.text)
            s.sent = c.sent.load(ordering: .relaxed)
            s.dropped = c.dropped.load(ordering: .relaxed)
            s.sendErrors = c.errors.load(ordering: .relaxed)
            s.buffered = c.buffered.load(ordering: .relaxed)
            s.failingInARow = c.failingInARow.load(ordering: .relaxed)
            s.lastError = c.lastError.withLock { $0 }
            return s
        }
    }

    /// Starts the render thread and one sender thread per URL.
    public func start() throws {
        var started: [BackgroundThread] = []
        started.append(try BackgroundThread(name: "remote-write") { [self] in renderLoop() })
        for i in targets.indices {
            started.append(try BackgroundThread(name: "remote-write-\(i)") { [self] in sendLoop(i) })
        }
        threads = started
    }

    /// Stops the threads after trying, for up to `flushTimeout`, to send what is queued.
    public func stop(flushTimeout: Duration = .seconds(3)) {
        let deadline = Clocks.monotonicNanos() + flushTimeout.nanoseconds
        while Clocks.monotonicNanos() < deadline && queues.contains(where: { q in q.items.withLock { !$0.isEmpty } }) {
            usleep(50_000)
        }
        stopping.store(true, ordering: .relaxed)
        renderWake.signal()
        for wake in sendWakes { wake.signal() }
        for t in threads { t.join() }
        threads = []
    }

    /// One request: the compressed WriteRequest of the exporter's current series and its sample
    /// count. Called by the render thread only (the builder keeps the series' labels between renders).
    public func render() -> (body: [UInt8], samples: Int) {
        builder.begin(timestampMillis: Clocks.wallNanos() / 1_000_000)
        exporter.collect(into: builder)
        builder.end()
        return (builder.compressed(), builder.samples)
    }

    /// Sleeps for `d` on `wake`, which only a stop ends early (other signals are slept through):
    /// false when stopping.
    private func sleep(_ d: Duration, on wake: Semaphore) -> Bool {
        let until = Clocks.monotonicNanos().saturatingAdd(d.nanoseconds)
        while !stopping.load(ordering: .relaxed) {
            if !wake.wait(untilNanos: until) { return !stopping.load(ordering: .relaxed) }
        }
        return false
    }

    private func renderLoop() {
        repeat {
            let (body, samples) = render()
            let request = (id: nextID.add(1, ordering: .relaxed).newValue, body: body, samples: samples)
            for (i, queue) in queues.enumerated() {
                let dropped = queue.items.withLock { q -> Int in
                    q.append(request)
                    var dropped = 0
                    while q.count > queueLimit { dropped += q.removeFirst().samples }
                    counters[i].buffered.store(q.reduce(0) { $0 + $1.samples }, ordering: .relaxed)
                    return dropped
                }
                if dropped > 0 { counters[i].dropped.add(UInt64(dropped), ordering: .relaxed) }
                sendWakes[i].signal()
            }
        } while sleep(configuration.interval, on: renderWake)
    }

    private func sendLoop(_ i: Int) {
        let target = targets[i], counter = counters[i]
        var backoff = Duration.milliseconds(250)
        let maxBackoff = Duration.seconds(30)
        var failing = false
        while !stopping.load(ordering: .relaxed) {
            guard let next = queues[i].items.withLock({ $0.first }) else {
                _ = sendWakes[i].wait(timeoutMs: 1000) // a request queued or a stop wakes it
                continue
            }
            let outcome = target.send(next.body)
            switch outcome {
            case .sent, .rejected:
                queues[i].items.withLock { q in
                    // The render loop may have dropped it meanwhile: remove it only if still first.
                    if let first = q.first, first.id == next.id { q.removeFirst() }
                    counter.buffered.store(q.reduce(0) { $0 + $1.samples }, ordering: .relaxed)
                }
                if case .rejected(let why) = outcome {
                    counter.errors.add(1, ordering: .relaxed)
                    counter.dropped.add(UInt64(next.samples), ordering: .relaxed)
                    logger.error("remote write to \(target.url) rejected a request (not retried): \(why)")
                } else {
                    counter.sent.add(UInt64(next.samples), ordering: .relaxed)
                    if failing { logger.info("remote write to \(target.url) is sending again") }
                }
                failing = false
                counter.failingInARow.store(0, ordering: .relaxed)
                backoff = .milliseconds(250)
            case .retry(let why):
                counter.errors.add(1, ordering: .relaxed)
                counter.failingInARow.add(1, ordering: .relaxed)
                counter.lastError.withLock { $0 = why }
                if !failing { logger.warning("remote write to \(target.url) failed, retrying with backoff: \(why)") }
                failing = true
                _ = sleep(backoff, on: sendWakes[i])
                backoff = min(backoff * 2, maxBackoff)
            }
        }
    }
}
