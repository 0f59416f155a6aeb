import Synchronization

/// cAdvisor's event types.
public enum EventType: String, Sendable, CaseIterable {
    case oom
    case oomKill
    case containerCreation
    case containerDeletion
}

/// cAdvisor's `Event` (info/v1).
public struct ContainerEvent: Sendable, Equatable {
    public var containerName: String
    /// Nanoseconds since the epoch.
    public var timestampNanos: Int64
    public var type: EventType
    /// oomKill: the killed process.
    public var pid: Int?
    public var processName: String?
    /// oom / oomKill: the constraint of the kill ("CONSTRAINT_MEMCG").
    public var constraint: String?

    public init(containerName: String, timestampNanos: Int64, type: EventType, pid: Int? = nil,
                processName: String? = nil, constraint: String? = nil) {
        self.containerName = containerName
        self.timestampNanos = timestampNanos
        self.type = type
        self.pid = pid
        self.processName = processName
        self.constraint = constraint
    }
}

/// Retention per event type, as cAdvisor's `event_storage_age_limit` / `event_storage_event_limit`
/// ("default=24h,oom=1h" and "default=100000,creation=10").
public struct EventRetention: Sendable, Equatable {
    public var maxAge: [EventType: Int64]
    public var maxCount: [EventType: Int]

    public init(defaultAge: Duration = .seconds(24 * 3600), defaultCount: Int = 100_000,
                ages: [EventType: Duration] = [:], counts: [EventType: Int] = [:]) {
        maxAge = Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0, (ages[$0] ?? defaultAge).nanoseconds) })
        maxCount = Dictionary(uniqueKeysWithValues: EventType.allCases.map { ($0, counts[$0] ?? defaultCount) })
    }
}

/// Which events a query or subscription wants.
public struct EventFilter: Sendable {
    public var types: Set<EventType> = Set(EventType.allCases)
    /// The container, and with `includeSubcontainers` everything under it.
    public var containerName: String = "/"
    public var includeSubcontainers = true
    public var start: Int64?
    public var end: Int64?
    /// Newest `maxEvents` (cAdvisor's default 10); nil for all.
    public var maxEvents: Int? = 10
    public init() {}

    func matches(_ e: ContainerEvent) -> Bool {
        guard types.contains(e.type) else { return false }
        if let start, e.timestampNanos < start { return false }
        if let end, e.timestampNanos > end { return false }
        if e.containerName == containerName { return true }
        guard includeSubcontainers else { return false }
        return containerName == "/" || e.containerName.hasPrefix(containerName + "/")
    }
}

/// Keeps events per type with cAdvisor's retention and hands them to subscribers as they come.
public final class EventStore: Sendable {
    struct State {
        var byType: [EventType: [ContainerEvent]] = [:]
        var subscribers: [UInt64: (EventFilter, AsyncStream<ContainerEvent>.Continuation)] = [:]
        var nextID: UInt64 = 0
    }
    public let retention: EventRetention
    private let state = Mutex(State())

    public init(retention: EventRetention = EventRetention()) { self.retention = retention }

    /// Records an event (dropped at once when its type keeps none) and passes it to subscribers.
    public func add(_ event: ContainerEvent) {
        let maxCount = retention.maxCount[event.type] ?? 0
        let maxAge = retention.maxAge[event.type] ?? 0
        let receivers = state.withLock { s -> [AsyncStream<ContainerEvent>.Continuation] in
            if maxCount > 0 && maxAge > 0 {
                // Mutated in place: a copy taken out of the dictionary and put back would copy every
                // stored event of the type at each add (tens of thousands under container churn).
                s.byType[event.type, default: []].append(event)
                let oldest = event.timestampNanos.saturatingSubtract(maxAge)
                let count = s.byType[event.type]?.count ?? 0
                var drop = s.byType[event.type]?.prefix { $0.timestampNanos < oldest }.count ?? 0
                drop = max(drop, count - maxCount)
                if drop > 0 { s.byType[event.type]?.removeFirst(drop) }
            }
            return s.subscribers.values.filter { $0.0.matches(event) }.map(\.1)
        }
        for r in receivers { r.yield(event) }
    }

    /// Stored events matching the filter, oldest first, the newest `maxEvents` of them.
    public func query(_ filter: EventFilter) -> [ContainerEvent] {
        let all = state.withLock { s in s.byType.values.flatMap { $0.filter(filter.matches) } }
            .sorted { $0.timestampNanos < $1.timestampNanos }
        guard let max = filter.maxEvents, max >= 0, all.count > max else { return all }
        return Array(all.suffix(max))
    }

    /// A stream of new events matching the filter; it ends when the consumer stops iterating.
    public func subscribe(_ filter: EventFilter) -> AsyncStream<ContainerEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ContainerEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            s.subscribers[s.nextID] = (filter, continuation)
            return s.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    public var subscriberCount: Int { state.withLock { $0.subscribers.count } }
}

extension EventRetention {
    /// A retention flag value is wrong: which flag and why.
    public struct FlagError: Error, CustomStringConvertible, Equatable {
        public var flag: String
        public var reason: String
        public var description: String { "-\(flag): \(reason)" }
    }

    /// Parses cAdvisor's `-event_storage_age_limit` ("default=24h,oom=1h") and
    /// `-event_storage_event_limit` ("default=100000,creation=10"). Keys are `default` or an event
    /// type (`oom`, `oomKill`, `containerCreation`, `containerDeletion`; cAdvisor's short `creation`
    /// and `deletion` are accepted too).
    public static func parse(ages: String, counts: String) throws(FlagError) -> EventRetention {
        func entries(_ text: String, _ flag: String) throws(FlagError) -> [(EventType?, String)] {
            var out: [(EventType?, String)] = []
            for part in text.split(separator: ",") where !part.isEmpty {
                let kv = part.split(separator: "=", maxSplits: 1).map(String.init)
                guard kv.count == 2 else { throw FlagError(flag: flag, reason: "\"\(part)\" is not type=value") }
                let aliases = ["creation": EventType.containerCreation, "deletion": .containerDeletion]
                if kv[0] == "default" {
                    out.append((nil, kv[1]))
                } else if let t = EventType(rawValue: kv[0]) ?? aliases[kv[0]] {
                    out.append((t, kv[1]))
                } else {
                    throw FlagError(flag: flag, reason: "unknown event type \"\(kv[0])\"")
                }
            }
            return out
        }
        var defaultAge: Duration = .seconds(24 * 3600)
        var defaultCount = 100_000
        var typeAges: [EventType: Duration] = [:]
        var typeCounts: [EventType: Int] = [:]
        for (type, value) in try entries(ages, "event_storage_age_limit") {
            guard let d = try? GoDuration.parse(value) else {
                throw FlagError(flag: "event_storage_age_limit", reason: "invalid duration \"\(value)\"")
            }
            if let type { typeAges[type] = d } else { defaultAge = d }
        }
        for (type, value) in try entries(counts, "event_storage_event_limit") {
            guard let n = Int(value), n >= 0 else {
                throw FlagError(flag: "event_storage_event_limit", reason: "invalid count \"\(value)\"")
            }
            if let type { typeCounts[type] = n } else { defaultCount = n }
        }
        return EventRetention(defaultAge: defaultAge, defaultCount: defaultCount, ages: typeAges, counts: typeCounts)
    }
}
