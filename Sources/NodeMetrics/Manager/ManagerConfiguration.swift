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
    /// Where the container runtimes listen (`-docker`, `-containerd`, `-podman`, `-crio`).
    public var runtimeEndpoints = RuntimeEndpoints()
    /// referenced_reset_interval: every this many samples a container's referenced bits are cleared
    /// (writes to /proc/<pid>/clear_refs); 0 never clears.
    public var referencedResetInterval = 0
    /// Descriptors handles may keep open; from RLIMIT_NOFILE when nil.
    public var descriptorBudget: DescriptorBudget?
    /// `-storage_driver`: every stored sample is also offered to these (nil: none).
    public var backends: StorageBackends?
    /// Push paths beside the drivers (remote write) whose counters `/metrics` and `/validate/` show
    /// with the drivers'.
    public var pushStatus = PushStatusBoard()

    public init() {}
}

/// The runtimes' API sockets, as the agent sees them (not under `--root`: the DaemonSet mounts the
/// host's /var/run and /run). `unix://` prefixes are accepted and dropped.
public struct RuntimeEndpoints: Sendable, Equatable {
    public var docker = "/var/run/docker.sock"
    public var containerd = "/run/containerd/containerd.sock"
    public var podman = "/run/podman/podman.sock"
    public var crio = "/var/run/crio/crio.sock"
    /// `-docker-tls`: the client certificates for a `tcp://` Docker endpoint (nil: plain).
    public var dockerTLS: TLSClient?
    /// `-containerd-namespace`: the one containerd namespace asked and discovered (cAdvisor's
    /// default `k8s.io`); empty: every namespace but Docker's `moby`.
    public var containerdNamespace = "k8s.io"

    public init() {}

    /// A socket path from a flag value (`unix:///var/run/docker.sock` or a plain path).
    public static func socketPath(_ endpoint: String) -> String {
        endpoint.hasPrefix("unix://") ? String(endpoint.dropFirst("unix://".count)) : endpoint
    }

    /// Name and path of each runtime, for reports.
    public var all: [(String, String)] {
        [("Docker", docker), ("containerd", containerd), ("Podman", podman), ("CRI-O", crio)]
    }
}
