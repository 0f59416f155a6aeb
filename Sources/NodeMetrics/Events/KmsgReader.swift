import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads new kernel log records from /dev/kmsg (starting at its end, as cAdvisor does) and turns
/// OOM kills into events. Runs on its own thread; `stop()` ends it within half a second.
public final class KmsgReader: @unchecked Sendable {
    // @unchecked: `thread` is set by start() and joined by stop(), both called by the owner.
    private let path: String
    private let onOOM: @Sendable (OOMInstance) -> Void
    private let running = Mutex(false)
    private var thread: BackgroundThread?

    public init(path: String = "/dev/kmsg", onOOM: @escaping @Sendable (OOMInstance) -> Void) {
        self.path = path
        self.onOOM = onOOM
    }

    /// Opens the log; false when it cannot be read (no /dev/kmsg in the container, no permission)
    /// or its thread cannot be started.
    @discardableResult
    public func start() -> Bool {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return false }
        lseek(fd, 0, SEEK_END)
        running.withLock { $0 = true }
        do {
            thread = try BackgroundThread(name: "nm-kmsg") { [self] in
                self.loop(fd)
                close(fd)
            }
        } catch {
            running.withLock { $0 = false }
            close(fd)
            return false
        }
        return true
    }

    /// Stops the reader and waits for its thread.
    public func stop() {
        running.withLock { $0 = false }
        thread?.join()
        thread = nil
    }

    private var isRunning: Bool { running.withLock { $0 } }

    private func loop(_ fd: Int32) {
        var parser = OOMParser()
        var buffer = [UInt8](repeating: 0, count: 8192)
        while isRunning {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, 500) > 0 else { continue }
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EPIPE { continue } // records were overwritten: go on with the next
                if n <= 0 { break }
                let text = String(decoding: buffer[0..<n], as: UTF8.self)
                guard let record = KmsgRecord(Substring(text)) else { continue }
                if let oom = parser.feed(record.message, timestampNanos: Self.wallClock(monotonicMicros: record.monotonicMicros)) {
                    onOOM(oom)
                }
            }
        }
    }

    /// Converts a kmsg timestamp (µs of the monotonic clock, as the record says) to wall-clock
    /// nanoseconds, saturating for a record beyond Int64 nanoseconds.
    static func wallClock(monotonicMicros: UInt64) -> Int64 {
        var real = timespec(), mono = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_MONOTONIC, &mono)
        let offset = Clocks.nanoseconds(seconds: Int64(real.tv_sec), nanos: Int64(real.tv_nsec))
            .saturatingSubtract(Clocks.nanoseconds(seconds: Int64(mono.tv_sec), nanos: Int64(mono.tv_nsec)))
        return offset.saturatingAdd(Int64(clamping: monotonicMicros).saturatingMultiply(1000))
    }
}
