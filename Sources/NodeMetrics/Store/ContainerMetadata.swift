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

    /// A pid as a runtime's answer gives it (JSON number, protobuf uint32): 0 (unknown) unless it is
    /// a positive number that fits a pid_t.
    static func pid(fromRuntime value: some BinaryInteger) -> Int32 {
        guard let pid = Int32(exactly: value), pid > 0 else { return 0 }
        return pid
    }
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
    /// Host paths of a Docker or Podman container's writable layer (the overlay upper directory) and
    /// log directory, whose usage LayerUsage measures; empty when unknown or for other runtimes.
    public var writableLayer = ""
    public var logDirectory = ""
    /// The container joined another container's network namespace: a pod's app container (the
    /// sandbox holds the pod's network), a Docker or Podman container run with `--network
    /// container:<id>` (a Podman pod's members share its infra container's). It exports no network
    /// series, as in cAdvisor and the kubelet, so a pod's network is counted once.
    public var sharesNetwork = false

    public init() {}

    /// The CRI label keys the kubelet puts on every container.
    public static let podNameLabel = "io.kubernetes.pod.name"
    public static let podNamespaceLabel = "io.kubernetes.pod.namespace"
    public static let podUIDLabel = "io.kubernetes.pod.uid"
    public static let containerNameLabel = "io.kubernetes.container.name"

    /// `KEY=value` entries whose key starts with one of `prefixes` (cAdvisor's `-env_metadata_whitelist`).
    public static func whitelistedEnvironment(_ entries: [String], prefixes: [String]) -> [String: String] {
        var env: [String: String] = [:]
        for entry in entries {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            let key = String(entry[..<eq])
            if prefixes.contains(where: { !$0.isEmpty && key.hasPrefix($0) }) { env[key] = String(entry[entry.index(after: eq)...]) }
        }
        return env
    }

    /// Fills the Kubernetes identity from the CRI labels where they are present. A pod's sandbox
    /// (containerd's `io.cri-containerd.kind=sandbox`, dockershim's `io.kubernetes.docker.type=podsandbox`,
    /// CRI-O's and dockershim's `io.kubernetes.container.name=POD`) is named POD, as the kubelet names it;
    /// every other container of a pod shares the sandbox's network (`sharesNetwork`).
    public mutating func deriveKubernetesIdentity() {
        if let v = labels[Self.podNameLabel] { podName = v }
        if let v = labels[Self.podNamespaceLabel] { podNamespace = v }
        if let v = labels[Self.podUIDLabel] { podUID = v }
        if let v = labels[Self.containerNameLabel] { containerName = v }
        if Self.isSandbox(labels) { containerName = "POD" }
        if Self.isPodAppContainer(labels) { sharesNetwork = true }
    }

    /// A pod's sandbox by its runtime's marker.
    static func isSandbox(_ labels: [String: String]) -> Bool {
        labels["io.cri-containerd.kind"] == "sandbox" || labels["io.kubernetes.docker.type"] == "podsandbox"
            || labels[containerNameLabel] == "POD"
    }

    /// A pod's app container (not its sandbox) by the CRI labels: it runs in the sandbox's network namespace.
    static func isPodAppContainer(_ labels: [String: String]) -> Bool {
        guard !isSandbox(labels) else { return false }
        return labels["io.cri-containerd.kind"] == "container" || labels["io.kubernetes.docker.type"] == "container"
            || (!(labels[containerNameLabel] ?? "").isEmpty && labels[podUIDLabel] != nil)
    }

    /// The identity a pod-level cgroup (`pod<uid>`) carries: its pod's name, namespace and uid, taken
    /// from one of its containers.
    public var podIdentity: ContainerMetadata {
        var m = ContainerMetadata()
        m.podName = podName
        m.podNamespace = podNamespace
        m.podUID = podUID
        return m
    }
}
