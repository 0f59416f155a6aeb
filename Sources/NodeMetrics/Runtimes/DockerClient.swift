import FoundationEssentials

/// The Docker Engine API (and Podman's Docker-compatible API) over its unix socket: what cAdvisor's
/// docker handler asks — a container's name, labels, image, environment, times, pid, health and
/// limits; the engine's version and storage driver; the event stream.
public struct DockerClient: Sendable {
    public let http: UnixHTTPClient
    /// "docker" or "podman": the runtime and namespace the metadata is labelled with.
    public let runtime: String

    public init(socketPath: String, runtime: String = "docker", timeout: Duration = .seconds(5)) {
        self.init(endpoint: .unix(path: socketPath), runtime: runtime, timeout: timeout)
    }

    /// Docker at `-docker=tcp://host:port`, with TLS under `-docker-tls`.
    public init(endpoint: HTTPEndpoint, runtime: String = "docker", timeout: Duration = .seconds(5)) {
        http = UnixHTTPClient(endpoint: endpoint, timeout: timeout)
        self.runtime = runtime
    }

    struct Inspect: Decodable {
        struct Config: Decodable {
            var Image: String?
            var Labels: [String: String]?
            var Env: [String]?
        }
        struct State: Decodable {
            struct Health: Decodable { var Status: String? }
            var Pid: Int?
            var StartedAt: String?
            var Running: Bool?
            var Health: Health?
        }
        struct GraphDriver: Decodable {
            var Name: String?
            var Data: [String: String]?
        }
        var Id: String
        var Name: String?
        var GraphDriver: GraphDriver?
        var LogPath: String?
        var Created: String?
        struct HostConfig: Decodable { var NetworkMode: String? }
        var Config: Config?
        var State: State?
        var HostConfig: HostConfig?
    }

    struct Version: Decodable {
        var Version: String?
        var ApiVersion: String?
    }

    struct Info: Decodable {
        var Driver: String?
        var DockerRootDir: String?
    }

    /// What the engine says about one container, as metadata (`envWhitelist`: environment variable
    /// name prefixes to keep, cAdvisor's `-env_metadata_whitelist`). nil when it does not know the id.
    public func metadata(id: String, envWhitelist: [String]) throws(UnixHTTPClient.Failure) -> ContainerMetadata? {
        let r = try http.request("GET", "/containers/\(id)/json")
        if r.status == 404 { return nil }
        guard r.status == 200 else { throw .init(description: "\(http.socketPath): /containers/\(id)/json: HTTP \(r.status)") }
        let c: Inspect
        do { c = try JSONDecoder().decode(Inspect.self, from: Data(r.body)) } catch {
            throw .init(description: "\(http.socketPath): /containers/\(id)/json: \(error)")
        }
        var m = ContainerMetadata()
        m.runtime = runtime
        m.namespace = runtime
        let name = (c.Name ?? "").hasPrefix("/") ? String((c.Name ?? "").dropFirst()) : (c.Name ?? "")
        m.aliases = name.isEmpty ? [c.Id] : [name, c.Id]
        m.image = c.Config?.Image ?? ""
        m.labels = c.Config?.Labels ?? [:]
        m.env = ContainerMetadata.whitelistedEnvironment(c.Config?.Env ?? [], prefixes: envWhitelist)
        switch c.State?.Health?.Status {
        case "healthy": m.health = 1
        case "unhealthy", "starting": m.health = 0
        default: m.health = -1
        }
        m.pid = ContainerMetadata.pid(fromRuntime: c.State?.Pid ?? 0)
        m.createdNanos = c.Created.flatMap(GoTime.parseRFC3339)
        m.startedNanos = c.State?.StartedAt.flatMap(GoTime.parseRFC3339)
        m.writableLayer = c.GraphDriver?.Data?["UpperDir"] ?? ""
        if let log = c.LogPath, let slash = log.lastIndex(of: "/"), slash != log.startIndex { m.logDirectory = String(log[..<slash]) }
        m.deriveKubernetesIdentity()
        // `--network container:<id>` (a dockershim pod's app containers, a Podman pod's members).
        if c.HostConfig?.NetworkMode?.hasPrefix("container:") == true { m.sharesNetwork = true }
        return m
    }

    /// The engine's version ("20.10.24").
    public func version() throws(UnixHTTPClient.Failure) -> String {
        let r = try http.request("GET", "/version")
        guard r.status == 200, let v = try? JSONDecoder().decode(Version.self, from: Data(r.body)) else {
            throw .init(description: "\(http.socketPath): /version: HTTP \(r.status)")
        }
        return v.Version ?? ""
    }

    /// The storage driver and root directory (/info).
    public func info() throws(UnixHTTPClient.Failure) -> (driver: String, rootDir: String) {
        let r = try http.request("GET", "/info")
        guard r.status == 200, let i = try? JSONDecoder().decode(Info.self, from: Data(r.body)) else {
            throw .init(description: "\(http.socketPath): /info: HTTP \(r.status)")
        }
        return (i.Driver ?? "", i.DockerRootDir ?? "")
    }

    struct Event: Decodable {
        struct Actor: Decodable { var ID: String? }
        var status: String?
        var id: String?
        var Action: String?
        var Actor: Actor?
    }

    /// Follows container events until the engine goes away or `handle` returns false: (action, id).
    public func events(_ handle: (String, String) -> Bool) throws(UnixHTTPClient.Failure) {
        let filter = "%7B%22type%22%3A%5B%22container%22%5D%7D" // {"type":["container"]}
        try http.stream("/events?filters=\(filter)", idle: .seconds(30)) { line in
            guard let e = try? JSONDecoder().decode(Event.self, from: Data(line)) else { return true }
            let action = e.Action ?? e.status ?? ""
            guard let id = e.Actor?.ID ?? e.id else { return true }
            return handle(action, id)
        }
    }
}
