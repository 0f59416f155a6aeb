#if canImport(Glibc)
import Glibc
#endif

/// The two clocks the agent reads, in nanoseconds: wall time (sample and event timestamps) and
/// monotonic time (schedules, backoff).
enum Clocks {
    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME).
    static func wallNanos() -> Int64 { read(CLOCK_REALTIME) }

    /// Nanoseconds on CLOCK_MONOTONIC.
    static func monotonicNanos() -> Int64 { read(CLOCK_MONOTONIC) }

    private static func read(_ clock: clockid_t) -> Int64 {
        var ts = timespec()
        clock_gettime(clock, &ts)
        return nanoseconds(seconds: Int64(ts.tv_sec), nanos: Int64(ts.tv_nsec))
    }
}
