import CCgroupFast
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's fatal-signal handler (the C core's crash.c): a Swift runtime trap (force-unwrap of nil,
/// overflow: SIGILL on x86-64, SIGTRAP on arm64), SIGSEGV, SIGBUS, SIGABRT, SIGFPE or SIGQUIT writes a
/// crash report to stderr — a header line (signal, si_code, fault address, thread), the raw frames as
/// `module+address` with an addr2line command line, then the frames' symbol names, demangled — and
/// the process dies of that same signal (exit status 128+n), so it is restarted. It replaces the
/// Swift runtime's backtracer, which cannot run inside the seccomp sandbox.
public enum CrashHandler {
    /// Installs the handler (in the calling thread, the daemon's main thread, with an alternate signal
    /// stack) and logs how many symbols a report can name.
    public static func install(logger: Logger) {
        let rc = cgf_crash_install()
        let symbols = cgf_crash_symbol_count()
        if rc == 0 || rc == -ENOENT {
            logger.debug("crash handler installed", metadata: ["symbols": "\(symbols)"])
            if cgf_crash_symbols_complete() == 0 {
                logger.info("crash reports will name exported functions only: the binary has no symbol table (strip --strip-debug keeps it); addr2line on the unstripped binary of this build names every frame",
                            metadata: ["symbols": "\(symbols)"])
            }
        } else {
            logger.error("crash handler not installed", metadata: ["error": "\(String(cString: strerror(-rc)))"])
        }
    }

    /// The environment variable of the trap test hook: seconds after the call of
    /// `armDebugTrapIfRequested` (made once the sandbox is on) at which a background thread traps.
    public static let debugTrapVariable = "NODE_METRICS_DEBUG_TRAP_AFTER"

    /// The test hook: when `NODE_METRICS_DEBUG_TRAP_AFTER=<seconds>` is set (operator-only, never
    /// reachable over HTTP), starts a thread that, after that many seconds, hits a real Swift runtime
    /// trap (a force-unwrap of nil the optimizer cannot foresee) so the crash report can be tested in
    /// the real, sandboxed daemon.
    public static func armDebugTrapIfRequested(logger: Logger) {
        guard let raw = getenv(debugTrapVariable) else { return }
        guard let seconds = Double(String(cString: raw)), seconds >= 0, seconds < 86_400 else {
            logger.error("ignored: not a number of seconds", metadata: ["variable": "\(debugTrapVariable)"])
            return
        }
        logger.warning("test hook: the agent will trap on purpose", metadata: ["after_seconds": "\(seconds)"])
        do {
            _ = try BackgroundThread(name: "debug-trap") {
                var delay = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - seconds.rounded(.down)) * 1e9))
                var left = timespec()
                while nanosleep(&delay, &left) != 0 && errno == EINTR { delay = left }
                debugTrap(Int(getpid()))
            }
        } catch {
            logger.error("test hook not armed", metadata: ["error": "\(error)"])
        }
    }

    /// Traps: `pid` is never negative, so `value` is always nil — which the compiler cannot know.
    @inline(never)
    static func debugTrap(_ pid: Int) {
        let value: Int? = pid < 0 ? pid : nil
        // A deliberate force-unwrap of nil: the test hook's trap.
        let trapped = value!
        print("not reached: \(trapped)")
    }
}
