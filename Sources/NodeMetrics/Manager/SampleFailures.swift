/// Why sampling failed, as the agent counts it: per reason since start, which containers' latest
/// attempt failed, and when the last failure was. `container_scrape_error` reads `anyRecent`.
public struct SampleFailures: Sendable, Equatable {
    /// Failed samples since start, by reason (`gone`: the cgroup vanished mid-read; `read_error`:
    /// the C core could not read it; `spec_gone`/`spec_read_error`: the same for its limits).
    public var counts: [String: UInt64] = [:]
    /// Containers still kept whose latest sampling attempt failed, with the reason.
    public var failing: [String: String] = [:]
    /// Monotonic time of the latest failure (0: none yet).
    public var lastFailureNanos: Int64 = 0

    /// How long a failure keeps `container_scrape_error` at 1 after the container is gone (a cgroup
    /// that vanished mid-read leaves the store at once; its failure should still be seen by a scrape).
    public static let visibleFor: Int64 = 60_000_000_000

    public init() {}

    mutating func record(_ name: String, reason: String, at now: Int64, stillKept: Bool) {
        counts[reason, default: 0] &+= 1 // wraps only after 2^64 failures
        if stillKept { failing[name] = reason } else { failing[name] = nil }
        lastFailureNanos = now
    }

    mutating func succeeded(_ name: String) {
        if !failing.isEmpty { failing[name] = nil }
    }

    /// True when a kept container's latest sample failed, or any sample failed in the last minute.
    public func anyRecent(now: Int64) -> Bool {
        !failing.isEmpty || (lastFailureNanos != 0 && now - lastFailureNanos < Self.visibleFor)
    }
}
