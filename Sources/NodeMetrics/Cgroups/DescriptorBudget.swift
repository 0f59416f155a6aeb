import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// How many file descriptors cgroup handles may keep open. Keeping a cgroup's sample files open
/// makes a sample one pread per file; when the process limit (RLIMIT_NOFILE) cannot cover every
/// cgroup, the handles past the budget open and close their files on each read instead.
public final class DescriptorBudget: Sendable {
    /// Descriptors one cgroup keeps at most: 19 sample files and 3 per huge page size (up to 8).
    public static let perCgroupMaximum = Int(CGF_F_COUNT.rawValue) + 3 * Int(CGF_MAX_HUGEPAGE_SIZES)

    private let remaining: Mutex<Int>
    /// The budget it started with.
    public let total: Int

    /// A budget of exactly `total` descriptors.
    public init(total: Int) {
        self.total = max(0, total)
        remaining = Mutex(self.total)
    }

    /// Raises the soft RLIMIT_NOFILE to the hard limit and budgets all of it but `reserve`
    /// (sockets, logs, /proc reads).
    public static func fromProcessLimit(reserve: Int = 1024) -> DescriptorBudget {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return DescriptorBudget(total: 0) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        let usable = limit.rlim_cur >= rlim_t(Int.max) ? Int.max / 2 : Int(limit.rlim_cur)
        return DescriptorBudget(total: usable - reserve)
    }

    /// Takes `count` descriptors if they are left.
    public func take(_ count: Int) -> Bool {
        remaining.withLock { left in
            guard left >= count else { return false }
            left -= count
            return true
        }
    }

    /// Charges descriptors that are already open (a cgroup directory that appeared after its handle
    /// opened): the budget may go below zero, and then no new handle keeps descriptors.
    public func charge(_ count: Int) {
        remaining.withLock { $0 -= count }
    }

    /// Gives descriptors back.
    public func give(_ count: Int) {
        remaining.withLock { $0 += count }
    }

    /// Descriptors still available.
    public var available: Int { remaining.withLock { $0 } }
}
