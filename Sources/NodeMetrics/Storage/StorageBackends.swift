import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How one driver's buffer and sender behave.
public struct StorageBufferPolicy: Sendable, Equatable {
    /// `-storage_driver_buffer_duration`: samples older than this are dropped, oldest first, while the
    /// backend does not take them.
    public var maxAge: Duration = .seconds(60)
    /// A count bound as well, so memory stays bounded whatever the number of containers
    /// (`-storage_driver_buffer_samples`).
    public var maxSamples = 20_000
    /// At most this many samples per `write`.
    public var maxBatch = 2_000
    /// How often the sender looks for new samples (one batch per interval while the backend is up).
    public var flushInterval: Duration = .seconds(1)
    /// Retries after a failed write wait `initialBackoff`, doubling per failure, up to `maxBackoff`.
    public var initialBackoff: Duration = .milliseconds(250)
    public var maxBackoff: Duration = .seconds(8)

    public init() {}

    /// The wait before the retry that follows the `failures`-th failure in a row (1-based).
    public func backoff(afterFailures failures: Int) -> Duration {
        guard failures > 0 else { return .zero }
        let initial = max(initialBackoff.nanoseconds, 1), cap = max(maxBackoff.nanoseconds, initial)
        let shift = min(failures - 1, 62)
        let (scaled, overflow) = initial.multipliedReportingOverflow(by: Int64(1) << Int64(shift))
        return .nanoseconds(overflow ? cap : min(scaled, cap))
    }
}

/// What a driver's sender has done since start.
public struct StorageDriverStatus: Sendable, Equatable {
    /// The driver's name; a repeated one gets its instance number ("influxdb", "influxdb#2").
    public var name: String
    /// Where it sends (for `/validate/`).
    public var destination: String
    public var sent: UInt64 = 0
    /// Samples dropped unsent: the buffer was full or they were older than its duration.
    public var dropped: UInt64 = 0
    /// Failed writes (each retried with backoff).
    public var sendErrors: UInt64 = 0
    /// Samples waiting, the batch being sent included.
    public var buffered = 0
    public var lastError: String?
    /// Failed writes in a row now (0: the backend takes what it is sent).
    public var failingInARow = 0
}

/// One driver's bounded buffer and its sender thread. The sampler's `offer` only takes a lock and
/// appends (dropping the oldest when full); the sender thread batches, writes, retries with capped
/// exponential backoff, and gives a backend that comes back what it missed, in order.
final class StorageSender: @unchecked Sendable {
    // @unchecked: `thread` is set once by start() and read by close() on the same (daemon) thread.
    let driver: any StorageDriver
    let policy: StorageBufferPolicy
    private let logger: Logger

    /// A buffered sample and when it was offered (monotonic ns: a wall clock step drops nothing).
    private struct Entry {
        var sample: StoredSample
        var offered: Int64
    }

    private struct State {
        var queue: [Entry] = []
        var head = 0
        var inflight = 0
        var status: StorageDriverStatus
        var stopping = false
        var deadline: Int64 = .max
        var finished = false

        var waiting: Int { queue.count - head }

        mutating func dropOldest(_ n: Int) {
            let n = min(n, waiting)
            guard n > 0 else { return }
            head += n
            status.dropped &+= UInt64(n)
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
        }

        /// Drops what is too old, then what exceeds the count bound (the batch in flight counts).
        mutating func trim(now: Int64, policy: StorageBufferPolicy) {
            let oldest = now &- policy.maxAge.nanoseconds
            var stale = 0
            while head + stale < queue.count && queue[head + stale].offered < oldest { stale += 1 }
            dropOldest(stale)
            let excess = waiting + inflight - policy.maxSamples
            if excess > 0 { dropOldest(excess) }
        }
    }
    private let state: Mutex<State>
    private var thread: BackgroundThread?
    /// Ends the sender's sleep when the shutdown starts.
    private let wake = Semaphore()

    init(driver: any StorageDriver, label: String, policy: StorageBufferPolicy, logger: Logger) {
        self.driver = driver
        var policy = policy
        policy.maxSamples = max(policy.maxSamples, 1)
        policy.maxBatch = max(1, min(policy.maxBatch, policy.maxSamples))
        self.policy = policy
        self.logger = logger
        state = Mutex(State(status: StorageDriverStatus(name: label, destination: driver.destination)))
    }

    /// Queues a sample offered at `now` (monotonic ns; never blocks on the backend). Full: the oldest
    /// is dropped and counted.
    func offer(_ sample: StoredSample, now: Int64) {
        state.withLock { s in
            guard !s.finished else { s.status.dropped &+= 1; return }
            s.queue.append(Entry(sample: sample, offered: now))
            s.trim(now: now, policy: policy)
        }
    }

    var status: StorageDriverStatus {
        state.withLock { s in
            var st = s.status
            st.buffered = s.waiting + s.inflight
            return st
        }
    }

    func start() throws(BackgroundThread.StartError) {
        thread = try BackgroundThread(name: "nm-storage-\(driver.name)") { [self] in run() }
    }

    /// Takes up to a batch (oldest first) and marks it in flight.
    private func take(now: Int64) -> (batch: [Entry], stopping: Bool, deadline: Int64) {
        state.withLock { s in
            s.trim(now: now, policy: policy)
            let n = min(s.waiting, policy.maxBatch)
            let batch = Array(s.queue[s.head..<(s.head + n)])
            s.head += n
            s.inflight = n
            if s.head == s.queue.count { s.queue.removeAll(keepingCapacity: s.queue.count < 4 * policy.maxBatch); s.head = 0 }
            return (batch, s.stopping, s.deadline)
        }
    }

    private func sent(_ n: Int) {
        state.withLock { s in
            s.inflight = 0
            s.status.sent &+= UInt64(n)
            s.status.failingInARow = 0
        }
    }

    /// A failed batch goes back in front of what came meanwhile, then the bounds apply again.
    private func failed(_ batch: [Entry], _ error: any Error, now: Int64) -> Int {
        state.withLock { s in
            s.inflight = 0
            s.queue = batch + s.queue[s.head...]
            s.head = 0
            s.status.sendErrors &+= 1
            s.status.failingInARow += 1
            s.status.lastError = "\(error)"
            s.trim(now: now, policy: policy)
            return s.status.failingInARow
        }
    }

    /// Sleeps until `until` (monotonic ns). A shutdown ends a wait for the next flush at once, and a
    /// backoff wait at the shutdown's deadline.
    private func sleep(until: Int64, backoff: Bool) {
        while true {
            let now = Clocks.monotonicNanos()
            let (stopping, deadline) = state.withLock { ($0.stopping, $0.deadline) }
            var end = until
            if stopping {
                guard backoff else { return }
                end = min(until, deadline)
            }
            guard now < end else { return }
            _ = wake.wait(untilNanos: end) // the shutdown wakes it to look again
        }
    }

    private func run() {
        var next = Clocks.monotonicNanos()
        var backingOff = false
        while true {
            sleep(until: next, backoff: backingOff)
            backingOff = false
            let (batch, stopping, deadline) = take(now: Clocks.monotonicNanos())
            let now = Clocks.monotonicNanos()
            if batch.isEmpty {
                if stopping { break }
                next = now + policy.flushInterval.nanoseconds
                continue
            }
            do {
                try driver.write(batch.map(\.sample))
                sent(batch.count)
                // More than a batch waiting (a backend back after an outage): send on at once.
                let more = state.withLock { $0.waiting > 0 }
                next = more || stopping ? now : now + policy.flushInterval.nanoseconds
            } catch {
                let failures = failed(batch, error, now: Clocks.monotonicNanos())
                if failures == 1 || failures % 10 == 0 {
                    logger.warning("storage driver write failed; retrying with backoff",
                                   metadata: ["driver": "\(driver.name)", "samples": "\(batch.count)",
                                              "failures": "\(failures)", "error": "\(error)"])
                }
                next = Clocks.monotonicNanos() + policy.backoff(afterFailures: failures).nanoseconds
                backingOff = true
                if stopping && Clocks.monotonicNanos() >= deadline { break }
            }
        }
        driver.close()
        state.withLock { s in
            let lost = s.waiting
            if lost > 0 { s.status.dropped &+= UInt64(lost) }
            s.queue = []
            s.head = 0
            s.finished = true
        }
    }

    /// Starts the shutdown: the sender sends what it can until `grace` has passed, then closes the
    /// driver. Returns once it has, or after `grace` (plus a write's timeout) at the latest.
    func close(grace: Duration) {
        let deadline = Clocks.monotonicNanos() + grace.nanoseconds
        state.withLock { s in
            s.stopping = true
            s.deadline = deadline
        }
        wake.signal()
        guard let thread else { driver.close(); return }
        let hardDeadline = deadline + 2_000_000_000
        while !state.withLock({ $0.finished }) {
            if Clocks.monotonicNanos() > hardDeadline {
                logger.warning("storage driver did not finish its last write in time", metadata: ["driver": "\(driver.name)"])
                return
            }
            var ts = timespec(tv_sec: 0, tv_nsec: 10_000_000)
            nanosleep(&ts, nil)
        }
        thread.join()
        self.thread = nil
    }
}

/// The configured backend storage drivers (`-storage_driver`), each behind its own buffer and
/// sender thread. The manager offers every sample it stores; `/metrics` and `/validate/` read
/// `statuses`; the daemon calls `close` at shutdown.
public final class StorageBackends: Sendable {
    private let senders: [StorageSender]

    public init(drivers: [any StorageDriver], policy: StorageBufferPolicy,
                logger: Logger = Logger(label: "node-metrics.storage")) {
        var seen: [String: Int] = [:]
        senders = drivers.map { d in
            let n = (seen[d.name] ?? 0) + 1
            seen[d.name] = n
            return StorageSender(driver: d, label: n == 1 ? d.name : "\(d.name)#\(n)", policy: policy, logger: logger)
        }
    }

    public var isEmpty: Bool { senders.isEmpty }

    /// Starts every sender thread.
    public func start() throws(StorageConfigurationError) {
        for s in senders {
            do { try s.start() } catch { throw StorageConfigurationError("storage driver \(s.driver.name): \(error)") }
        }
    }

    /// Hands a stored sample to every driver's buffer (called by the manager after `store.append`).
    public func offer(_ sample: StoredSample) {
        let now = Clocks.monotonicNanos()
        for s in senders { s.offer(sample, now: now) }
    }

    public var statuses: [StorageDriverStatus] { senders.map(\.status) }

    /// Sends what each buffer holds within `grace` (all drivers at once), then closes the drivers.
    public func close(grace: Duration = .seconds(3)) {
        var closers: [BackgroundThread] = []
        for sender in senders {
            if let t = try? BackgroundThread(name: "nm-storage-close", { sender.close(grace: grace) }) {
                closers.append(t)
            } else {
                sender.close(grace: grace)
            }
        }
        for c in closers { c.join() }
    }
}
