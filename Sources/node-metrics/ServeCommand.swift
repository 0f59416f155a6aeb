import ArgumentParser
import NodeMetrics

/// A cAdvisor flag name; `-name` is accepted too (GoFlags rewrites it to `--name`).
func flag(_ name: String) -> NameSpecification {
    [.customLong(name)]
}

/// The daemon: `node-metrics` with no subcommand. Flags are cAdvisor's, spelled as its users write them.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the agent: discovery, housekeeping and the HTTP server (the default command).")

    /// Flags that Go lets stand alone (`-docker_only`), rewritten by GoFlags.normalize.
    static let booleanFlags = Set([
        "allow_dynamic_housekeeping", "docker_only", "disable_root_cgroup_stats", "store_container_labels",
        "version", "logtostderr", "http_auth_all_endpoints", "seccomp", "map_code_on_touch", "prometheus_timestamps", "profiling", "enable_load_reader",
    ]).union(CAdvisorCompatFlags.booleans)

    /// cAdvisor's flags that only need accepting (and a warning when their feature is not built).
    @OptionGroup var compat: CAdvisorCompatFlags
    @OptionGroup(title: "Prometheus remote write") var remoteWrite: RemoteWriteFlags

    // MARK: HTTP
    @Option(name: flag("listen_ip"), help: "IP to listen on; empty for all.")
    var listenIP = ""
    @Option(name: flag("port"), help: "Port to listen on.")
    var port = 8080
    @Option(name: flag("url_base_prefix"), help: "Prefix path that will be prepended to all paths (reverse proxies).")
    var urlBasePrefix = ""
    @Option(name: flag("prometheus_endpoint"), help: "Endpoint to expose Prometheus metrics on.")
    var prometheusEndpoint = "/metrics"
    @Option(name: flag("http_auth_file"), help: "HTTP auth file (htpasswd) for the web UI.")
    var httpAuthFile = ""
    @Option(name: flag("http_auth_realm"), help: "HTTP auth realm for the web UI.")
    var httpAuthRealm = "localhost"
    @Option(name: flag("http_digest_file"), help: "HTTP digest file (htdigest) for the web UI.")
    var httpDigestFile = ""
    @Option(name: flag("http_digest_realm"), help: "HTTP digest realm for the web UI.")
    var httpDigestRealm = "localhost"
    @Option(name: flag("http_auth_all_endpoints"), help: "Require the -http_auth_file / -http_digest_file credentials on every endpoint (API, /metrics, /validate; not /healthz), not only the web UI as cAdvisor does.")
    var httpAuthAllEndpoints = GoBool(false)
    @OptionGroup(title: "TLS and tokens")
    var security: SecurityOptions
    @Option(name: flag("seccomp"), help: "Once serving, confine the process to an allow-list of system calls (libseccomp); a refused call fails with EPERM and is logged.")
    var seccomp = GoBool(true)
    @Option(name: flag("map_code_on_touch"), help: "Map the agent's code page by page as it runs, not in the kernel's 64 KiB fault-around windows, and unmap what ran only at start-up (userfaultfd, Linux 6.7 or later; elsewhere this does nothing): about 13 MiB less resident memory at 200 containers.")
    var mapCodeOnTouch = GoBool(true)
    @Option(name: flag("version"), help: "Print the version and exit.")
    var version = GoBool(false)

    // MARK: /metrics beyond cAdvisor
    @Option(name: flag("prometheus_timestamps"), help: "Put the sample time on container and machine series, as cAdvisor does (false: let Prometheus stamp them; cadvisor#2526).")
    var prometheusTimestamps = GoBool(true)
    @Option(name: flag("prometheus_labels"), help: "Container labels on /metrics: cadvisor (id, name, image, container_label_*, container_env_*) or kubernetes (id, name, image, pod, namespace, container, as the kubelet's /metrics/cadvisor).")
    var prometheusLabels = "cadvisor"
    @Option(name: flag("metrics_namespaces"), help: "Export only containers of these Kubernetes namespaces (comma list; empty: all).")
    var metricsNamespaces = ""
    @Option(name: flag("metrics_label_selector"), help: "Export only containers whose labels match this Kubernetes label selector (e.g. 'app=web,tier!=cache').")
    var metricsLabelSelector = ""

    // MARK: housekeeping
    @Option(name: flag("housekeeping_interval"), help: "Interval between container housekeepings.")
    var housekeepingInterval: Duration = .seconds(1)
    @Option(name: flag("max_housekeeping_interval"), help: "Largest interval between container housekeepings.")
    var maxHousekeepingInterval: Duration = .seconds(60)
    @Option(name: flag("allow_dynamic_housekeeping"), help: "Whether to allow the housekeeping interval to be dynamic.")
    var allowDynamicHousekeeping = GoBool(true)
    @Option(name: flag("global_housekeeping_interval"), help: "Interval between global housekeepings (rescans).")
    var globalHousekeepingInterval: Duration = .seconds(60)
    @Option(name: flag("update_machine_info_interval"), help: "Interval between machine info updates.")
    var updateMachineInfoInterval: Duration = .seconds(300)
    @Option(name: flag("storage_duration"), help: "How long to keep data stored.")
    var storageDuration: Duration = .seconds(120)
    @Option(name: flag("event_storage_age_limit"), help: "Max age of events, per type: default=24h,oom=1h.")
    var eventStorageAgeLimit = "default=24h"
    @Option(name: flag("event_storage_event_limit"), help: "Max number of events, per type: default=100000.")
    var eventStorageEventLimit = "default=100000"

    // MARK: containers
    @Option(name: flag("docker_only"), help: "Only report docker containers in addition to root stats.")
    var dockerOnly = GoBool(false)
    @Option(name: flag("raw_cgroup_prefix_whitelist"), help: "Comma list of cgroup prefixes still collected with -docker_only.")
    var rawCgroupPrefixWhitelist = ""
    @Option(name: flag("disable_root_cgroup_stats"), help: "Disable collecting root cgroup stats.")
    var disableRootCgroupStats = GoBool(false)
    @Option(name: flag("disable_metrics"), help: "Comma list of metric kinds to skip.")
    var disableMetrics = "advtcp,cpu_topology,cpuset,hugetlb,memory_numa,process,referenced_memory,resctrl,sched,tcp,udp"
    @Option(name: flag("enable_metrics"), help: "Comma list of metric kinds to collect; overrides -disable_metrics.")
    var enableMetrics = ""
    @Option(name: flag("referenced_reset_interval"), help: "Reset interval for referenced bytes (container_referenced_bytes), in samples; 0 never resets.")
    var referencedResetInterval = 0
    @Option(name: flag("root"), help: "Prefix under which the host's /proc and /sys are read (/rootfs in a container).")
    var root = "/"

    // MARK: runtimes and labels (used by the runtime integrations)
    @Option(name: flag("docker"), help: "Docker endpoint: unix:///path or tcp://host:port (with -docker-tls for TLS).")
    var docker = "unix:///var/run/docker.sock"
    @Option(name: flag("containerd"), help: "containerd endpoint.")
    var containerd = "/run/containerd/containerd.sock"
    @Option(name: flag("containerd-namespace"), help: "containerd namespace whose containers are named (empty: every namespace but Docker's moby).")
    var containerdNamespace = "k8s.io"
    @Option(name: flag("podman"), help: "Podman endpoint.")
    var podman = "unix:///run/podman/podman.sock"
    @Option(name: flag("crio"), help: "CRI-O endpoint.")
    var crio = "/var/run/crio/crio.sock"

    // MARK: kubelet endpoints (/stats/summary, /metrics/resource)
    @Option(name: flag("node_name"), help: "Node name in /stats/summary (default: $NODE_NAME, else the host name).")
    var nodeName = ""
    @Option(name: flag("kubelet_cgroups"), help: "Cgroup of the kubelet: the 'kubelet' system container of /stats/summary (empty: none).")
    var kubeletCgroups = ""
    @Option(name: flag("runtime_cgroups"), help: "Cgroup of the container runtime: the 'runtime' system container (empty: none).")
    var runtimeCgroups = ""
    @Option(name: flag("system_cgroups"), help: "Cgroup of the other system processes: the 'misc' system container (empty: none).")
    var systemCgroups = ""
    @Option(name: flag("pod_cgroup_root"), help: "Cgroup of all pods: the 'pods' system container (empty: /kubepods or /kubepods.slice).")
    var podCgroupRoot = ""

    /// The kubelet endpoints' node name and system containers.
    func kubeletConfiguration() -> KubeletConfiguration {
        var k = KubeletConfiguration(nodeName: nodeName)
        k.systemContainers.kubelet = kubeletCgroups
        k.systemContainers.runtime = runtimeCgroups
        k.systemContainers.misc = systemCgroups
        k.systemContainers.pods = podCgroupRoot
        return k
    }
    @Option(name: flag("store_container_labels"), help: "Convert container labels and environment variables into labels on Prometheus metrics.")
    var storeContainerLabels = GoBool(true)
    @Option(name: flag("whitelisted_container_labels"), help: "Comma list of container labels to keep when -store_container_labels=false.")
    var whitelistedContainerLabels = ""
    @Option(name: flag("env_metadata_whitelist"), help: "Comma list of environment variable prefixes to collect.")
    var envMetadataWhitelist = ""

    // MARK: logging (klog's flags)
    @Option(name: flag("v"), help: "Log verbosity (klog levels; 2 is cAdvisor's default).")
    var verbosity = 2
    @Option(name: flag("logtostderr"), help: "Log to standard error (always on).")
    var logToStderr = GoBool(true)

    // MARK: storage drivers (push exporters)
    @Option(name: flag("storage_driver"), help: "Storage drivers to push every sample to, a comma list (stdout, statsd, influxdb, redis, kafka, elasticsearch, bigquery); empty: none.")
    var storageDriver: String?
    @OptionGroup var storageExtensions: StorageExtensionFlags

    // MARK: cAdvisor features not built (accepted with a warning)
    @Option(name: flag("perf_events_config"), help: "Perf events (not built yet: accepted with a warning).")
    var perfEventsConfig: String?
    @Option(name: flag("profiling"), help: "pprof handlers (no Go runtime here: accepted with a warning).")
    var profiling: GoBool?
    @Option(name: flag("enable_load_reader"), help: "Netlink CPU load reader (not built yet: accepted with a warning).")
    var enableLoadReader: GoBool?
    @Option(name: flag("max_procs"), help: "GOMAXPROCS (no Go runtime here: accepted with a warning).")
    var maxProcs: Int?
    @Option(name: flag("resctrl_interval"), help: "Resctrl (not built yet: accepted with a warning).")
    var resctrlInterval: Duration?

    /// Flags of features that are not built, with how they were set, for the start-up warnings.
    var unbuiltFlagsInUse: [String] {
        var out: [String] = []
        if let perfEventsConfig, !perfEventsConfig.isEmpty { out.append("-perf_events_config") }
        if profiling?.value == true { out.append("-profiling") }
        if enableLoadReader?.value == true { out.append("-enable_load_reader") }
        if let maxProcs, maxProcs != 0 { out.append("-max_procs") }
        if let resctrlInterval, resctrlInterval != .zero { out.append("-resctrl_interval") }
        if compat.dockerTLS.value && !docker.hasPrefix("tcp://") { out.append("-docker-tls (Docker is a unix socket here)") }
        return out + compat.notBuiltInUse
    }

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("-port: \(port) is not a TCP port (1-65535)") }
        guard housekeepingInterval > .zero else { throw ValidationError("-housekeeping_interval must be positive") }
        guard storageDuration > .zero else { throw ValidationError("-storage_duration must be positive") }
        _ = try managerConfiguration()
        _ = try metricsConfiguration()
        _ = try remoteWriteConfiguration()
        try checkStorageDriverNames()
    }

    /// `-remote_write_*` (nil without a URL); the queue holds `-storage_driver_buffer_duration`.
    func remoteWriteConfiguration() throws -> RemoteWriteConfiguration? {
        let buffer: Duration
        do { buffer = try GoDuration.parse(compat.storageDriverBufferDuration) } catch {
            throw ValidationError("-storage_driver_buffer_duration: \(error.description)")
        }
        return try remoteWrite.configuration(housekeepingInterval: housekeepingInterval, bufferDuration: buffer)
    }

    /// The authenticator of -http_auth_file (basic; it wins as in cAdvisor) or -http_digest_file; nil
    /// when neither is set. A file that cannot be read or parsed stops start-up naming it.
    func authenticator() throws -> HTTPAuthenticator? {
        do {
            if !httpAuthFile.isEmpty { return try HTTPAuthenticator(scheme: .basic, path: httpAuthFile, realm: httpAuthRealm) }
            if !httpDigestFile.isEmpty { return try HTTPAuthenticator(scheme: .digest, path: httpDigestFile, realm: httpDigestRealm) }
        } catch {
            throw ValidationError("-\(httpAuthFile.isEmpty ? "http_digest_file" : "http_auth_file"): \(error.description)")
        }
        if httpAuthAllEndpoints.value { throw ValidationError("-http_auth_all_endpoints needs -http_auth_file or -http_digest_file") }
        return nil
    }

    /// The /metrics configuration from the flags; errors name the flag.
    func metricsConfiguration() throws -> MetricsConfiguration {
        var m = MetricsConfiguration()
        guard let mode = ContainerLabelMode(rawValue: prometheusLabels) else {
            throw ValidationError("-prometheus_labels: \"\(prometheusLabels)\" is not one of cadvisor, kubernetes")
        }
        m.labelMode = mode
        m.timestamps = prometheusTimestamps.value
        m.storeContainerLabels = storeContainerLabels.value
        m.whitelistedLabels = Set(whitelistedContainerLabels.split(separator: ",").map { $0.trimmed })
        do {
            m.filter = try MetricsFilter(namespaces: metricsNamespaces, selector: metricsLabelSelector)
        } catch {
            throw ValidationError("-metrics_label_selector: \(error.description)")
        }
        return m
    }

    /// The manager's configuration from the flags; errors name the flag.
    func managerConfiguration() throws -> ManagerConfiguration {
        var c = ManagerConfiguration()
        c.paths = HostPaths(root: root)
        c.housekeeping = HousekeepingPolicy(interval: housekeepingInterval, maxInterval: maxHousekeepingInterval,
                                            dynamic: allowDynamicHousekeeping.value)
        c.globalHousekeepingInterval = globalHousekeepingInterval
        c.machineInfoInterval = updateMachineInfoInterval
        c.storage = ContainerStore.Limits(maxAge: storageDuration)
        c.filter = ContainerFilter(dockerOnly: dockerOnly.value,
                                   rawPrefixWhitelist: rawCgroupPrefixWhitelist.split(separator: ",").map(String.init))
        c.disableRootCgroupStats = disableRootCgroupStats.value
        guard referencedResetInterval >= 0 else {
            throw ValidationError("-referenced_reset_interval: \(referencedResetInterval) is negative")
        }
        c.referencedResetInterval = referencedResetInterval
        do {
            c.metricKinds = try MetricKinds.parse(enable: enableMetrics, disable: disableMetrics)
        } catch {
            throw ValidationError(error.description)
        }
        c.runtimeEndpoints.docker = RuntimeEndpoints.socketPath(docker)
        if docker.hasPrefix("tcp://") {
            c.runtimeEndpoints.dockerTLS = try compat.dockerTLSClient()
            do {
                _ = try HTTPEndpoint.parse(docker, tls: c.runtimeEndpoints.dockerTLS)
            } catch {
                throw ValidationError("-docker: \(error.description)")
            }
        }
        c.runtimeEndpoints.containerdNamespace = containerdNamespace
        c.runtimeEndpoints.containerd = RuntimeEndpoints.socketPath(containerd)
        c.runtimeEndpoints.podman = RuntimeEndpoints.socketPath(podman)
        c.runtimeEndpoints.crio = RuntimeEndpoints.socketPath(crio)
        c.eventRetention = try EventRetention.parse(ages: eventStorageAgeLimit, counts: eventStorageEventLimit)
        return c
    }
}
