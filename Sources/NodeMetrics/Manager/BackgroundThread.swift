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
