import HeapModule

/// cAdvisor's housekeeping cadence: every container is sampled at `interval`; with dynamic
/// housekeeping the interval doubles (up to `maxInterval`) while a container's stats do not change,
/// and returns to `interval` as soon as they do.
public struct HousekeepingPolicy: Sendable, Equatable {
    /// Nanoseconds.
    public var interval: Int64
    public var maxInterval: Int64
    public var dynamic: Bool

    public init(interval: Duration = .seconds(1), maxInterval: Duration = .seconds(60), dynamic: Bool = true) {
        self.interval = interval.nanoseconds
        self.maxInterval = max(maxInterval.nanoseconds, interval.nanoseconds)
        self.dynamic = dynamic
    }

    /// The interval after a sample, given the current one and whether the stats changed.
    public func next(current: Int64, changed: Bool) -> Int64 {
        guard dynamic, !changed else { return interval }
        return min(current.saturatingMultiply(2), maxInterval)
    }
}

/// One scheduler for all containers: a min-heap of next-due times. No thread or task per container;
/// the manager's loop asks what is due, samples it and reports back whether it changed.
public struct HousekeepingQueue {
    struct Entry: Comparable {
        var due: Int64
        var sequence: UInt64   // FIFO among equal due times; stale entries are skipped by sequence
        var name: String
        static func < (a: Entry, b: Entry) -> Bool { (a.due, a.sequence) < (b.due, b.sequence) }
    }

    public let policy: HousekeepingPolicy
    private var heap = Heap<Entry>()
    /// Per container: current interval and the sequence of its live heap entry.
    private var state: [String: (interval: Int64, sequence: UInt64)] = [:]
    private var nextSequence: UInt64 = 0

    public init(policy: HousekeepingPolicy) { self.policy = policy }

    public var count: Int { state.count }
    public func contains(_ name: String) -> Bool { state[name] != nil }
    /// The current interval of a container (nanoseconds).
    public func interval(of name: String) -> Int64? { state[name]?.interval }

    /// Adds a container, due at `due`.
    public mutating func add(_ name: String, due: Int64) {
        guard state[name] == nil else { return }
        schedule(name, due: due, interval: policy.interval)
    }

    public mutating func remove(_ name: String) {
        state[name] = nil // its heap entry becomes stale and is dropped when it surfaces
    }

    /// When the earliest container is due, or nil when there is none.
    public mutating func nextDue() -> Int64? {
        while let top = heap.min, state[top.name]?.sequence != top.sequence { _ = heap.popMin() }
        return heap.min?.due
    }

    /// Removes and returns the next container due at or before `now`.
    public mutating func popDue(now: Int64) -> String? {
        guard let due = nextDue(), due <= now, let top = heap.popMin() else { return nil }
        return top.name
    }

    /// Reschedules a container after its sample: `changed` says whether its stats moved.
    public mutating func completed(_ name: String, at now: Int64, changed: Bool) {
        guard let current = state[name] else { return }
        let interval = policy.next(current: current.interval, changed: changed)
        schedule(name, due: now.saturatingAdd(interval), interval: interval)
    }

    private mutating func schedule(_ name: String, due: Int64, interval: Int64) {
        nextSequence += 1
        state[name] = (interval, nextSequence)
        heap.insert(Entry(due: due, sequence: nextSequence, name: name))
    }
}
