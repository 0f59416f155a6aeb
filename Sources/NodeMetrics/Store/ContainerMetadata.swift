/// What a runtime knows about a container beyond its cgroup: names, image, labels, environment and
/// Kubernetes identity. A raw cgroup has none of it (every field empty).
public struct ContainerMetadata: Sendable, Equatable {
    /// cAdvisor's aliases: for Docker `[name, id]`; the first is the `name` label of /metrics.
    public var aliases: [String] = []
    /// Which runtime handles the container ("docker", "containerd", ...); empty for raw cgroups.
    public var runtime = ""
    /// cAdvisor's namespace field ("docker", "containerd", ...).
    public var namespace = ""
    public var image = ""
    /// Runtime labels (Docker labels, containerd/CRI labels).
    public var labels: [String: String] = [:]
    /// Environment variables whitelisted by `-env_metadata_whitelist`.
    public var env: [String: String] = [:]
    /// The container's first process as the runtime reports it (0: unknown).
    public var pid: Int32 = 0
    /// Creation and start times from the runtime, nanoseconds since the epoch.
    public var createdNanos: Int64?
    public var startedNanos: Int64?
    /// Health check: 1 healthy, 0 unhealthy or starting, -1 no health check (container_health_state).
    public var health: Int = -1
    /// Kubernetes identity, from the CRI labels or the pod cgroup.
    public var podName = ""
    public var podNamespace = ""
    public var podUID = ""
    public var containerName = ""

    public init() {}

    /// The CRI label keys the kubelet puts on every container.
    public static let podNameLabel = "io.kubernetes.pod.name"
    public static let podNamespaceLabel = "io.kubernetes.pod.namespace"
    public static let podUIDLabel = "io.kubernetes.pod.uid"
    public static let containerNameLabel = "io.kubernetes.container.name"

    /// Fills the Kubernetes identity from the CRI labels where they are present.
    public mutating func deriveKubernetesIdentity() {
        if let v = labels[Self.podNameLabel] { podName = v }
        if let v = labels[Self.podNamespaceLabel] { podNamespace = v }
        if let v = labels[Self.podUIDLabel] { podUID = v }
        if let v = labels[Self.containerNameLabel] { containerName = v }
    }
}
