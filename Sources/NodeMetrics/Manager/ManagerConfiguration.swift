/// Everything the container manager is told at start, with cAdvisor's defaults.
public struct ManagerConfiguration: Sendable {
    public var paths = HostPaths()
    /// Where cgroups are mounted; detected from /proc/self/mountinfo when nil.
    public var layout: CgroupLayout?
    public var filter = ContainerFilter()
    /// housekeeping_interval, max_housekeeping_interval, allow_dynamic_housekeeping.
    public var housekeeping = HousekeepingPolicy()
    /// global_housekeeping_interval: full rescans that repair what inotify missed.
    public var globalHousekeepingInterval: Duration = .seconds(60)
    /// update_machine_info_interval.
    public var machineInfoInterval: Duration = .seconds(300)
    /// storage_duration and a count bound.
    public var storage = ContainerStore.Limits()
    public var eventRetention = EventRetention()
    public var metricKinds = MetricKinds.defaults
    /// disable_root_cgroup_stats.
    public var disableRootCgroupStats = false
    /// The kernel log read for OOM events; nil disables it.
    public var kmsgPath: String? = "/dev/kmsg"
    /// Descriptors handles may keep open; from RLIMIT_NOFILE when nil.
    public var descriptorBudget: DescriptorBudget?

    public init() {}
}
