import CCgroupFast
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's seccomp sandbox: once serving, the process allows itself only the system calls it
/// needs (reading /proc, /sys and cgroup files, inotify, sockets, threads, timers, memory), some of
/// them only with checked arguments (`argumentCheckedSystemCalls`). Anything else — mount, ptrace,
/// execve, fork, bpf, setns, module loading, an open for writing, a signal to another process — fails
/// with EPERM and is counted; `denials()` tells which, so they can be logged. Never a kill.
public enum Sandbox {
    /// The calls allowed with any arguments (names; those unknown to this architecture are skipped).
    public static let allowedSystemCalls: [String] = [
        // files (read-only use: no unlink, rename, mkdir, chmod, mknod; opens are argument-checked)
        "read", "write", "readv", "writev", "pread64", "preadv",
        "close", "close_range", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "lseek",
        "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fcntl", "dup", "dup2", "dup3",
        "pipe", "pipe2", "ioctl", "fadvise64", "getcwd",
        // memory
        "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "membarrier", "mincore",
        // signals
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack",
        "signalfd", "signalfd4", "restart_syscall",
        "setitimer", // the crash handler's watchdog (CrashHandler)
        // threads and the process
        "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "exit", "exit_group",
        "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
        "set_tid_address", "arch_prctl", "prctl", "sched_yield", "sched_getaffinity", "sched_getparam",
        "sched_getscheduler", "getcpu", "getrlimit", "setpriority", "getpriority", "getrusage", "times",
        "uname", "sysinfo", "getrandom",
        // time
        "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep", "gettimeofday", "time",
        "timerfd_create", "timerfd_settime", "timerfd_gettime",
        // event loops
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "poll", "ppoll",
        "select", "pselect6", "eventfd", "eventfd2",
        // sockets (the HTTP server, runtime sockets, the journal)
        "socket", "socketpair", "bind", "listen", "accept", "accept4", "connect", "getsockname", "getpeername",
        "setsockopt", "getsockopt", "sendto", "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
        // discovery
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
    ]

    /// The calls allowed only with checked arguments (the rules are in the C core, cgf_sandbox.h):
    /// opens read-only, `clone` for threads only, signals to this process only, resource limits read
    /// only. `openat2` and `clone3` (whose flags a filter cannot read) answer ENOSYS, so glibc falls
    /// back to `openat` and `clone`; `tkill`, `fork`, `vfork`, `execve` and `execveat` are not allowed at all.
    public static let argumentCheckedSystemCalls: [String] = ["open", "openat", "clone", "kill", "tgkill", "prlimit64"]

    /// Why the filter could not be loaded.
    public struct Failure: Error, CustomStringConvertible {
        public var errno: Int32
        public var description: String { "seccomp filter not loaded: \(String(cString: strerror(errno)))" }
    }

    /// Loads the filter for every thread. `allowingWriteOpens`: opens may also be write-only
    /// (O_WRONLY of an existing file, never O_CREAT, O_TRUNC or O_RDWR) — only for the
    /// referenced-memory collector's writes to /proc/<pid>/clear_refs. Returns how many listed names
    /// this architecture lacks.
    @discardableResult
    public static func confine(allowingWriteOpens: Bool = false) throws(Failure) -> Int {
        var unknown: Int32 = 0
        let options: UInt32 = allowingWriteOpens ? UInt32(CGF_SANDBOX_WRITE_OPENS) : 0
        let rc = withArrayOfCStrings(allowedSystemCalls) {
            cgf_sandbox_confine($0, Int32(allowedSystemCalls.count), options, &unknown)
        }
        guard rc == 0 else { throw Failure(errno: -rc) }
        return Int(unknown)
    }

    /// Tries a forbidden call (mount(2) with no arguments: EFAULT or EINVAL outside the sandbox)
    /// and reports whether the sandbox refused it with EPERM.
    public static func selfCheck() -> Bool {
        errno = 0
        let rc = mount(nil, nil, nil, 0, nil)
        return rc == -1 && errno == EPERM
    }

    /// Denied system calls so far: name, number, count.
    public static func denials() -> [(name: String, number: Int, count: UInt64)] {
        var out: [(String, Int, UInt64)] = []
        for nr in 0...Int(CGF_SANDBOX_MAX_SYSCALL) {
            let n = cgf_sandbox_denied(Int32(nr))
            guard n > 0 else { continue }
            var buf = [CChar](repeating: 0, count: 64)
            cgf_sandbox_syscall_name(Int32(nr), &buf, 64)
            let name = String(nulTerminated: buf)
            out.append((name.isEmpty ? "syscall \(nr)" : name, nr, n))
        }
        return out
    }

    /// One probe of `probe(scratchPath:allowingWriteOpens:)`.
    public struct Probe: Sendable {
        /// What was tried (`"openat O_WRONLY|O_CREAT"`, `"fork"`, `"kill(1, 0)"`, ...).
        public var name: String
        /// errno of the failed call; 0 when it succeeded.
        public var error: Int32
        /// The errno the sandbox must give (0: the call must succeed).
        public var expectedError: Int32
        /// Whether the sandbox answered as it must.
        public var asExpected: Bool { error == expectedError }
    }

    /// The test hook behind `NODE_METRICS_DEBUG_SANDBOX_PROBE=1`: tries, for real and from inside
    /// the sandbox, each kind of call it must refuse (an open for writing of `scratchPath` and of
    /// /proc/self files, fork, clone3, openat2, signals to other processes, execve of a path that does
    /// not exist, setting a resource limit) and some it must allow (a read-only open, a thread, a signal
    /// to itself, reading a limit).
    public static func probe(scratchPath: String, allowingWriteOpens: Bool) -> [Probe] {
        var out = [cgf_sandbox_probe](repeating: cgf_sandbox_probe(), count: 40)
        let options: UInt32 = allowingWriteOpens ? UInt32(CGF_SANDBOX_WRITE_OPENS) : 0
        let n = out.withUnsafeMutableBufferPointer { buffer in
            cgf_sandbox_run_probes(scratchPath, options, buffer.baseAddress, Int32(buffer.count))
        }
        return out.prefix(Int(max(0, n))).map { p in
            let name = withUnsafeBytes(of: p.name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            return Probe(name: name, error: p.result < 0 ? p.error : 0, expectedError: p.expected_error)
        }
    }

    /// The environment variable of the probe test hook (`1` turns it on).
    public static let debugProbeVariable = "NODE_METRICS_DEBUG_SANDBOX_PROBE"

    /// The test hook: with `NODE_METRICS_DEBUG_SANDBOX_PROBE=1` (operator-only, never reachable over
    /// HTTP), runs `probe` once confined and logs each result by name ("sandbox probe"), then a
    /// summary. The refusals themselves are logged by the sandbox monitor like any other.
    public static func runDebugProbesIfRequested(allowingWriteOpens: Bool, logger: Logger) {
        guard let raw = getenv(debugProbeVariable), String(cString: raw) == "1" else { return }
        let probes = probe(scratchPath: "/tmp/node-metrics-sandbox-probe-\(getpid())", allowingWriteOpens: allowingWriteOpens)
        for p in probes {
            logger.warning("sandbox probe", metadata: ["probe": "\(p.name)", "result": "\(errnoName(p.error))",
                                                       "expected": "\(errnoName(p.expectedError))",
                                                       "as_expected": "\(p.asExpected)"])
        }
        logger.warning("sandbox probes done", metadata: ["probes": "\(probes.count)",
                                                         "as_expected": "\(probes.filter(\.asExpected).count)"])
    }

    /// A short name for an errno (`EPERM`), or `ok` for 0.
    public static func errnoName(_ e: Int32) -> String {
        switch e {
        case 0: return "ok"
        case EPERM: return "EPERM"
        case ENOSYS: return "ENOSYS"
        case ENOENT: return "ENOENT"
        case EACCES: return "EACCES"
        case EINVAL: return "EINVAL"
        case ESRCH: return "ESRCH"
        case EFAULT: return "EFAULT"
        case EROFS: return "EROFS"
        default: return "errno \(e)"
        }
    }

    static func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
