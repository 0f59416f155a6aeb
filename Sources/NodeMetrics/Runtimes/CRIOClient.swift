import FoundationEssentials

/// CRI-O's inspect API: plain HTTP over its unix socket (`-crio`, /var/run/crio/crio.sock), the two
/// endpoints cAdvisor's crio handler reads: `/info` (storage driver and root) and `/containers/<id>`
/// (name, pid, image, labels, sandbox).
public struct CRIOClient: Sendable {
    public let http: UnixHTTPClient

    public init(socketPath: String, timeout: Duration = .seconds(5)) {
        http = UnixHTTPClient(socketPath: socketPath, timeout: timeout)
    }

    /// CRI-O's ContainerInfo (internal/server/inspect.go), the fields used here.
    struct ContainerInfo: Decodable {
        var name: String?
        var pid: Int?
        var image: String?
        var created_time: Int64?
        var labels: [String: String]?
        var annotations: [String: String]?
        var sandbox: String?
    }

    struct Info: Decodable {
        var storage_driver: String?
        var storage_root: String?
        var cgroup_driver: String?
    }

    func get<T: Decodable>(_ path: String, as: T.Type) throws(UnixHTTPClient.Failure) -> T? {
        let r = try http.request("GET", path)
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw .init(description: "\(http.socketPath): \(path): HTTP \(r.status)") }
        do { return try JSONDecoder().decode(T.self, from: Data(r.body)) } catch {
            throw .init(description: "\(http.socketPath): \(path): \(error)")
        }
    }

    /// The storage driver, storage root and cgroup driver CRI-O reports.
    public func info() throws(UnixHTTPClient.Failure) -> (driver: String, root: String, cgroupDriver: String) {
        guard let i = try get("/info", as: Info.self) else { throw .init(description: "\(http.socketPath): /info: HTTP 404") }
        return (i.storage_driver ?? "", i.storage_root ?? "", i.cgroup_driver ?? "")
    }

    /// cAdvisor's crio reference: aliases `[name, id]`, namespace "crio", labels, image, pid. CRI-O's
    /// inspect API has no environment, so `-env_metadata_whitelist` finds nothing here (as in cAdvisor).
    public func metadata(id: String, envWhitelist: [String]) throws(UnixHTTPClient.Failure) -> ContainerMetadata? {
        guard let c = try get("/containers/\(id)", as: ContainerInfo.self) else { return nil }
        var m = ContainerMetadata()
        m.runtime = "crio"
        m.namespace = "crio"
        let name = c.name ?? ""
        m.aliases = name.isEmpty ? [id] : [name, id]
        m.image = c.image ?? ""
        m.labels = c.labels ?? [:]
        m.pid = ContainerMetadata.pid(fromRuntime: c.pid ?? 0)
        if let t = c.created_time, t > 0 { m.createdNanos = t }
        m.deriveKubernetesIdentity()
        return m
    }
}

extension CRIOClient: RuntimeClient {}
