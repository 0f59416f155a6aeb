#if canImport(Glibc)
import Glibc
#endif

/// A dedicated OS thread running one closure (the housekeeping loop, the kernel log reader), without
/// Foundation's Thread: the agent keeps to FoundationEssentials to stay small.
final class BackgroundThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }
    private var thread = pthread_t()
    private var joined = false

    init(name: String, _ body: @escaping () -> Void) {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&thread, nil, { arg in
            let box = Unmanaged<Box>.fromOpaque(arg!).takeRetainedValue()
            box.body()
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
