/// The Kubernetes Container Runtime Interface (`runtime.v1`) over a runtime's unix socket:
/// containerd's CRI plugin (on containerd's own socket) and CRI-O. What the kubelet's runtime knows
/// about pods — sandboxes and containers with their metadata, labels, annotations, state, times,
/// ids and images, and each sandbox's IPs — is read here for `/pods`. The messages are the subset
/// in Protos/cri.
public struct CRIClient: Sendable {
    public let socketPath: String
    /// The container id scheme the kubelet shows (`containerd://<id>`, `cri-o://<id>`).
    public let scheme: String
    public let timeout: Duration

    public init(socketPath: String, scheme: String, timeout: Duration = .seconds(5)) {
        self.socketPath = socketPath
        self.scheme = scheme
        self.timeout = timeout
    }

    /// One pod sandbox with its status and the status of every container created in it.
    struct Pod: Sendable {
        var sandbox: Runtime_V1_PodSandboxStatus
        var containers: [Runtime_V1_ContainerStatus]
    }

    func withClient<T>(_ body: (UnixGRPCConnection) throws -> T) throws(GRPCCallFailure) -> T {
        try UnixGRPC.withClient(socketPath: socketPath, timeout: timeout, what: "CRI", body)
    }

    /// The methods of the CRI's RuntimeService asked here.
    enum Method {
        static let listPodSandbox = GRPCMethod<Runtime_V1_ListPodSandboxRequest, Runtime_V1_ListPodSandboxResponse>(
            "/runtime.v1.RuntimeService/ListPodSandbox")
        static let listContainers = GRPCMethod<Runtime_V1_ListContainersRequest, Runtime_V1_ListContainersResponse>(
            "/runtime.v1.RuntimeService/ListContainers")
        static let containerStatus = GRPCMethod<Runtime_V1_ContainerStatusRequest, Runtime_V1_ContainerStatusResponse>(
            "/runtime.v1.RuntimeService/ContainerStatus")
        static let podSandboxStatus = GRPCMethod<Runtime_V1_PodSandboxStatusRequest, Runtime_V1_PodSandboxStatusResponse>(
            "/runtime.v1.RuntimeService/PodSandboxStatus")
    }

    /// Every sandbox the runtime keeps, each with its status (IPs, namespaces) and its containers'
    /// statuses (start and finish times, exit code, image). A sandbox or container removed between
    /// the list and the status is left out.
    func pods() throws(GRPCCallFailure) -> [Pod] {
        try withClient { client in
            let sandboxes = try client.call(Method.listPodSandbox, Runtime_V1_ListPodSandboxRequest()).items
            let containers = try client.call(Method.listContainers, Runtime_V1_ListContainersRequest()).containers
            var statuses: [String: [Runtime_V1_ContainerStatus]] = [:]
            for c in containers {
                var request = Runtime_V1_ContainerStatusRequest()
                request.containerID = c.id
                guard let status = try? client.call(Method.containerStatus, request), status.hasStatus else { continue }
                statuses[c.podSandboxID, default: []].append(status.status)
            }
            var pods: [Pod] = []
            for s in sandboxes {
                var request = Runtime_V1_PodSandboxStatusRequest()
                request.podSandboxID = s.id
                guard let status = try? client.call(Method.podSandboxStatus, request), status.hasStatus else { continue }
                pods.append(Pod(sandbox: status.status, containers: statuses[s.id] ?? []))
            }
            return pods
        }
    }
}
