/// A bounded ring of samples, oldest first, limited by a count and by age. Its storage grows up to
/// the capacity as samples arrive and is then reused: memory stays flat once it is full.
public struct SampleRing<Element> {
    private var storage: [Element] = []
    private var head = 0            // index of the oldest element
    public private(set) var count = 0
    public let capacity: Int
    /// Elements older than this (nanoseconds, relative to the newest) are dropped.
    public let maxAge: Int64
    private let timestamp: (Element) -> Int64

    public init(capacity: Int, maxAge: Int64, timestamp: @escaping (Element) -> Int64) {
        self.capacity = max(1, capacity)
        self.maxAge = maxAge
        self.timestamp = timestamp
    }

    /// Appends, overwriting the oldest when full, then drops what is older than `maxAge`.
    public mutating func append(_ element: Element) {
        let slot = (head + count) % capacity
        if slot == storage.count {
            storage.append(element) // still growing towards the capacity
        } else {
            storage[slot] = element
        }
        if count == capacity {
            head = (head + 1) % capacity
        } else {
            count += 1
        }
        let newest = timestamp(element)
        while count > 1, newest.saturatingSubtract(timestamp(storage[head])) > maxAge {
            head = (head + 1) % capacity // the slot is overwritten later
            count -= 1
        }
    }

    public var newest: Element? { count == 0 ? nil : storage[(head + count - 1) % capacity] }

    /// The newest `limit` elements (all when nil) in time order, optionally within [start, end].
    public func elements(limit: Int? = nil, start: Int64? = nil, end: Int64? = nil) -> [Element] {
        var out: [Element] = []
        out.reserveCapacity(Swift.max(0, Swift.min(count, limit ?? count))) // a request's limit may be negative
        var i = count - 1
        while i >= 0, out.count < (limit ?? Int.max) {
            let e = storage[(head + i) % capacity]
            let t = timestamp(e)
            if let start, t < start { break }
            if end.map({ t <= $0 }) ?? true { out.append(e) }
            i -= 1
        }
        return out.reversed()
    }
}
