import GRPCCore
import GRPCNIOTransportHTTP2Posix

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

    func withClient<T: Sendable>(_ body: @Sendable @escaping (GRPCClient<HTTP2ClientTransport.Posix>) async throws -> T)
        throws(GRPCCallFailure) -> T {
        try UnixGRPC.withClient(socketPath: socketPath, timeout: timeout, what: "CRI", body)
    }

    /// Every sandbox the runtime keeps, each with its status (IPs, namespaces) and its containers'
    /// statuses (start and finish times, exit code, image). A sandbox or container removed between
    /// the list and the status is left out.
    func pods() throws(GRPCCallFailure) -> [Pod] {
        let options = UnixGRPC.callOptions(timeout: timeout)
        return try withClient { client in
            let runtime = Runtime_V1_RuntimeService.Client(wrapping: client)
            let sandboxes = try await runtime.listPodSandbox(Runtime_V1_ListPodSandboxRequest(), options: options).items
            let containers = try await runtime.listContainers(Runtime_V1_ListContainersRequest(), options: options).containers
            var statuses: [String: [Runtime_V1_ContainerStatus]] = [:]
            for c in containers {
                var request = Runtime_V1_ContainerStatusRequest()
                request.containerID = c.id
                guard let status = try? await runtime.containerStatus(request, options: options), status.hasStatus else { continue }
                statuses[c.podSandboxID, default: []].append(status.status)
            }
            var pods: [Pod] = []
            for s in sandboxes {
                var request = Runtime_V1_PodSandboxStatusRequest()
                request.podSandboxID = s.id
                guard let status = try? await runtime.podSandboxStatus(request, options: options), status.hasStatus else { continue }
                pods.append(Pod(sandbox: status.status, containers: statuses[s.id] ?? []))
            }
            return pods
        }
    }
}
