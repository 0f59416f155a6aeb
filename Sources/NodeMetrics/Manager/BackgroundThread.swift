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
    private var thread = pthread_t()
    private var joined = false

    init(name: String, _ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(name, body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            let altStack = cgf_crash_thread_enter(box.name)
            box.body()
            cgf_crash_thread_leave(altStack)
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed for \(name): \(rc)")
    }

    /// Waits for the closure to return.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
    }
}
