import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread running one closure (the housekeeping loop, the kernel log reader), without
/// Foundation's Thread: the agent keeps to FoundationEssentials to stay small. The thread has an
/// alternate signal stack, so the crash handler reports a stack overflow on it too, and its name.
final class BackgroundThread {
    private final class Box {
        let name: String
        let body: () -> Void
        init(_ name: String, _ body: @escaping () -> Void) { self.name = name; self.body = body }
    }

    /// pthread_create failed: a resource limit (threads, memory), not a bug. The caller decides
    /// whether it can go on without the thread.
    struct StartError: Error, CustomStringConvertible {
        var name: String
        var code: Int32
        var description: String { "cannot start thread \(name): \(String(cString: strerror(code)))" }
    }

    private var thread = pthread_t()
    private var joined = false

    init(name: String, _ body: @escaping () -> Void) throws(StartError) {
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            // The argument is the box passed below, never null: pthread_create hands it over as is.
            guard let arg else { return nil }
            let box = Unmanaged<Box>.fromOpaque(arg).takeRetainedValue()
            let altStack = cgf_crash_thread_enter(box.name)
            box.body()
            cgf_crash_thread_leave(altStack)
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release() // the thread never started: nobody else takes it
            throw StartError(name: name, code: rc)
        }
    }

    /// Waits for the closure to return.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}

/// A counting semaphore with timed waits on the monotonic clock (pthread), so the agent needs no
/// Dispatch: a thread that waits for work or for its next turn sleeps until either comes, instead
/// of waking on a short poll.
final class Semaphore: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var cond = pthread_cond_t()
    private var count = 0

    init() {
        pthread_mutex_init(&mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(&cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    func signal() {
        pthread_mutex_lock(&mutex)
        count += 1
        pthread_cond_signal(&cond)
        pthread_mutex_unlock(&mutex)
    }

    /// True when signalled, false on timeout.
    func wait(timeoutMs: Int) -> Bool {
        wait(untilNanos: Clocks.monotonicNanos().saturatingAdd(Int64(timeoutMs).saturatingMultiply(1_000_000)))
    }

    /// True when signalled, false once the monotonic clock reaches `deadline` (nanoseconds).
    func wait(untilNanos deadline: Int64) -> Bool {
        let d = max(deadline, 0)
        var ts = timespec(tv_sec: Int(d / 1_000_000_000), tv_nsec: Int(d % 1_000_000_000))
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while count == 0 {
            if pthread_cond_timedwait(&cond, &mutex, &ts) == ETIMEDOUT { return false }
        }
        count -= 1
        return true
    }
}
