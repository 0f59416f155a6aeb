import FoundationEssentials

/// containerd's gRPC API over its unix socket (`-containerd`): what cAdvisor's containerd handler asks —
/// a container's labels (the CRI labels carry the Kubernetes identity), image, environment (from the
/// OCI spec) and its task's pid — in `-containerd-namespace` (`k8s.io` by default, as cAdvisor), or
/// with an empty namespace in every namespace but `moby`, Docker's own, whose containers the Docker
/// integration already names. The messages are the subset in Protos/containerd.
public struct ContainerdClient: Sendable {
    public let socketPath: String
    public let timeout: Duration

    /// The namespace Docker's containerd uses: skipped, so nothing is counted twice.
    public static let dockerNamespace = "moby"

    /// `-containerd-namespace`: the only namespace asked; empty: every namespace but `moby`.
    public let namespace: String

    public init(socketPath: String, namespace: String = "k8s.io", timeout: Duration = .seconds(5)) {
        self.socketPath = socketPath
        self.namespace = namespace
        self.timeout = timeout
    }

    /// A failed call: the socket cannot be reached, or containerd answered with an error.
    public typealias Failure = GRPCCallFailure

    /// Runs `body` with a connected client; one connection per batch of calls (metadata is asked
    /// once per new container, so there is no connection worth keeping between batches).
    func withClient<T>(_ body: (UnixGRPCConnection) throws -> T) throws(Failure) -> T {
        try UnixGRPC.withClient(socketPath: socketPath, timeout: timeout, what: "containerd", body)
    }

    /// The methods of containerd's API asked here.
    enum Method {
        static let listNamespaces = GRPCMethod<Containerd_Services_Namespaces_V1_ListNamespacesRequest,
                                               Containerd_Services_Namespaces_V1_ListNamespacesResponse>(
            "/containerd.services.namespaces.v1.Namespaces/List")
        static let getContainer = GRPCMethod<Containerd_Services_Containers_V1_GetContainerRequest,
                                             Containerd_Services_Containers_V1_GetContainerResponse>(
            "/containerd.services.containers.v1.Containers/Get")
        static let getTask = GRPCMethod<Containerd_Services_Tasks_V1_GetRequest, Containerd_Services_Tasks_V1_GetResponse>(
            "/containerd.services.tasks.v1.Tasks/Get")
    }

    static func namespaceMetadata(_ namespace: String) -> [(String, String)] {
        [("containerd-namespace", namespace)]
    }

    /// containerd's namespaces (`moby` left out).
    public func namespaces() throws(Failure) -> [String] {
        try withClient { client in try Self.namespaces(client) }
    }

    static func namespaces(_ client: UnixGRPCConnection) throws -> [String] {
        let response = try client.call(Method.listNamespaces, Containerd_Services_Namespaces_V1_ListNamespacesRequest())
        return response.namespaces.map(\.name).filter { $0 != dockerNamespace }
    }

    /// The metadata of container `id`, looked for in each namespace; nil when no namespace has it.
    public func metadata(id: String, envWhitelist: [String]) throws(Failure) -> ContainerMetadata? {
        try withClient { client in
            let namespaces = namespace.isEmpty ? try Self.namespaces(client) : [namespace]
            for namespace in namespaces {
                let headers = Self.namespaceMetadata(namespace)
                var request = Containerd_Services_Containers_V1_GetContainerRequest()
                request.id = id
                let container: Containerd_Services_Containers_V1_Container
                do {
                    container = try client.call(Method.getContainer, request, metadata: headers).container
                } catch let error as GRPCStatusError where error.code == .notFound {
                    continue
                }
                var taskRequest = Containerd_Services_Tasks_V1_GetRequest()
                taskRequest.containerID = id
                // No task (created, not started) is not an error: the pid stays unknown.
                let pid = (try? client.call(Method.getTask, taskRequest, metadata: headers))?.process.pid ?? 0
                return Self.metadata(container, namespace: namespace, pid: pid, envWhitelist: envWhitelist)
            }
            return nil
        }
    }

    /// The OCI spec's part that matters here.
    struct OCISpec: Decodable {
        struct Process: Decodable { var env: [String]? }
        var process: Process?
    }

    /// cAdvisor's containerd reference: aliases `[id, cgroup name]` (the cgroup name is added by the
    /// caller, which knows it), namespace "containerd", labels, image, whitelisted environment.
    static func metadata(_ c: Containerd_Services_Containers_V1_Container, namespace: String, pid: UInt32,
                         envWhitelist: [String]) -> ContainerMetadata {
        var m = ContainerMetadata()
        m.runtime = "containerd"
        m.namespace = "containerd"
        m.aliases = [c.id]
        m.image = c.image
        m.labels = c.labels
        m.pid = ContainerMetadata.pid(fromRuntime: pid)
        if c.hasCreatedAt {
            m.createdNanos = Clocks.nanoseconds(seconds: c.createdAt.seconds, nanos: Int64(c.createdAt.nanos))
        }
        if c.hasSpec, let spec = try? JSONDecoder().decode(OCISpec.self, from: c.spec.value) {
            m.env = ContainerMetadata.whitelistedEnvironment(spec.process?.env ?? [], prefixes: envWhitelist)
        }
        m.deriveKubernetesIdentity()
        return m
    }
}
