import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// The daemon's seccomp sandbox: once serving, the process allows itself only the system calls it
/// needs (reading /proc, /sys and cgroup files, inotify, sockets, threads, timers, memory). Anything
/// else — mount, ptrace, execve, fork, bpf, setns, module loading, writes that change the filesystem
/// — fails with EPERM and is counted; `denials()` tells which, so they can be logged. Never a kill.
public enum Sandbox {
    /// The allow-list (names; those unknown to this architecture are skipped).
    public static let allowedSystemCalls: [String] = [
        // files (read-only use: no unlink, rename, mkdir, chmod, mknod)
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "open", "openat", "openat2",
        "close", "close_range", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "lseek",
        "getdents64", "readlink", "readlinkat", "access", "faccessat", "faccessat2", "fcntl", "dup", "dup2", "dup3",
        "pipe", "pipe2", "ioctl", "flock", "fsync", "fdatasync", "fadvise64", "getcwd",
        // memory
        "mmap", "munmap", "mprotect", "mremap", "madvise", "brk", "membarrier", "mincore",
        // signals
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack",
        "signalfd", "signalfd4", "kill", "tgkill", "tkill", "restart_syscall",
        // threads and the process
        "futex", "futex_waitv", "set_robust_list", "get_robust_list", "rseq", "clone", "clone3", "exit", "exit_group",
        "gettid", "getpid", "getppid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid", "getresgid",
        "set_tid_address", "arch_prctl", "prctl", "sched_yield", "sched_getaffinity", "sched_getparam",
        "sched_getscheduler", "getcpu", "getrlimit", "prlimit64", "setpriority", "getpriority", "getrusage", "times",
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

    public struct Failure: Error, CustomStringConvertible {
        public var errno: Int32
        public var description: String { "seccomp filter not loaded: \(String(cString: strerror(errno)))" }
    }

    /// Loads the filter for every thread. Returns how many listed names this architecture lacks.
    @discardableResult
    public static func confine() throws(Failure) -> Int {
        var unknown: Int32 = 0
        let rc = withArrayOfCStrings(allowedSystemCalls) { cgf_sandbox_confine($0, Int32(allowedSystemCalls.count), &unknown) }
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
            let name = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            out.append((name.isEmpty ? "syscall \(nr)" : name, nr, n))
        }
        return out
    }

    static func withArrayOfCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { copies.forEach { free($0) } }
        let pointers = copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
