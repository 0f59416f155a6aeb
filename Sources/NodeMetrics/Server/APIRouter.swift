import FoundationEssentials

/// Routes a request to the API that answers it: the URL base prefix, the authentication gate, then
/// `/healthz`, the Prometheus and kubelet endpoints (`ScrapeEndpoints.swift`), the web page, and
/// cAdvisor's REST API (`V1API.swift`, `V2API.swift`, `EventsAPI.swift`). Deliberate differences
/// from cAdvisor: an unknown container is 404 (cAdvisor: 500) with cAdvisor's message text; a bad
/// parameter, version or request type is 400 naming it; a container name that climbs out of the
/// cgroup tree with ".." or holds a NUL byte is refused (400).
public struct APIRouter: Sendable {
    public let manager: ContainerManager
    /// `-url_base_prefix`, without a trailing slash.
    public let urlBasePrefix: String

    public static let versions = ["v1.0", "v1.1", "v1.2", "v1.3", "v2.0", "v2.1"]

    /// Serves `prometheusEndpoint`.
    public let exporter: PrometheusExporter
    /// `-prometheus_endpoint` (default /metrics).
    public let prometheusEndpoint: String

    /// `-http_auth_file` / `-http_digest_file`; nil: no authentication.
    public let authenticator: HTTPAuthenticator?
    /// Beyond cAdvisor (which protects only its UI, cadvisor#3401): every endpoint but /healthz.
    public let protectAllEndpoints: Bool
    /// `-http_token_file`: every endpoint but /healthz takes these bearer tokens (`Access.swift`).
    public let tokens: BearerTokens?
    /// `-tls_client_ca_file`: every endpoint but /healthz needs a verified client certificate (or a token).
    public let clientCertificates: Bool
    /// The node name and system containers of the kubelet endpoints (/stats/summary, /metrics/resource).
    public let kubelet: KubeletConfiguration

    public init(manager: ContainerManager, urlBasePrefix: String = "", exporter: PrometheusExporter? = nil,
                prometheusEndpoint: String = "/metrics", authenticator: HTTPAuthenticator? = nil,
                protectAllEndpoints: Bool = false, kubelet: KubeletConfiguration = KubeletConfiguration(),
                tokens: BearerTokens? = nil, clientCertificates: Bool = false) {
        self.manager = manager
        self.tokens = tokens
        self.clientCertificates = clientCertificates
        self.kubelet = kubelet
        self.authenticator = authenticator
        self.protectAllEndpoints = protectAllEndpoints
        self.exporter = exporter ?? PrometheusExporter(manager: manager)
        self.prometheusEndpoint = prometheusEndpoint.hasPrefix("/") ? prometheusEndpoint : "/" + prometheusEndpoint
        var p = urlBasePrefix
        while p.hasSuffix("/") { p.removeLast() }
        self.urlBasePrefix = p.isEmpty || p.hasPrefix("/") ? p : "/" + p
    }

    /// Request types of an API version (cumulative, as cAdvisor's).
    static func requestTypes(_ version: String) -> [String] {
        var types = ["containers", "machine"]
        if version >= "v1.1" { types.append("subcontainers") }
        if version >= "v1.2" { types.append("docker") }
        if version >= "v1.3" { types.append("events") }
        if version.hasPrefix("v2") {
            types = ["version", "attributes", "machine", "stats", "summary", "spec", "storage", "events", "ps", "appmetrics"]
            if version == "v2.1" { types.append("machinestats") }
        }
        return types
    }

    /// The request's path below `-url_base_prefix`; nil when it is outside the prefix.
    func relativePath(_ request: HTTPRequest) -> String? {
        guard !urlBasePrefix.isEmpty else { return request.path }
        guard request.path == urlBasePrefix || request.path.hasPrefix(urlBasePrefix + "/") else { return nil }
        return String(request.path.dropFirst(urlBasePrefix.count))
    }

    /// `/healthz`: 200 once the first discovery pass is done, 503 before (so that an API that would
    /// 404 live containers is never advertised as healthy). Answered from state, never from work.
    public func health() -> HTTPResponse {
        manager.isReady ? .text(200, "ok") : .text(503, "not ready: the first discovery pass is still running\n")
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        guard let path = relativePath(request) else { return .text(404, "404 page not found\n") }
        if let denied = refusal(request, path: path) { return denied }
        if path.isEmpty || path == "/" {
            return HTTPResponse(status: 307, body: [], headers: [("Location", urlBasePrefix + "/containers/")])
        }
        if path == "/healthz" { return health() }
        if path == prometheusEndpoint { return metrics(request) }
        for (page, docker) in [("/containers", false), ("/docker", true)] where path == page || path.hasPrefix(page + "/") {
            let components = path.dropFirst(page.count).split(separator: "/")
            if let refusal = Self.refuseName(components, shownAs: String(path.dropFirst(page.count))) { return refusal }
            if docker && components.isEmpty { return WebUI.dockerIndex(router: self) }
            // /docker/<name, id or id prefix> as cAdvisor's links; else a cgroup path as before.
            if docker, components.count == 1,
               let resolved = try? runtimeContainers("docker", "/" + components[0], all: false), resolved.count == 1 {
                return WebUI.page(router: self, name: resolved[0], docker: true)
            }
            return WebUI.page(router: self, name: "/" + components.joined(separator: "/"), docker: docker)
        }
        if path.hasPrefix("/static/") {
            return WebUI.asset(String(path.dropFirst("/static/".count)), request: request)
        }
        if path == "/stats/summary" { return summary(request) }
        if path == "/metrics/resource" { return resourceMetrics() }
        if path == "/pods" || path == "/pods/" { return pods(request) }
        if path == "/validate/" { return .text(200, ValidationReport.text(manager: manager)) }
        if path == "/validate" {
            return HTTPResponse(status: 301, body: [], headers: [("Location", urlBasePrefix + "/validate/")])
        }
        if path == "/api" || path == "/api/" {
            return .text(400, "Supported API versions: \(Self.versions.joined(separator: ","))")
        }
        guard path.hasPrefix("/api/") else { return .text(404, "404 page not found\n") }
        let parts = path.dropFirst("/api/".count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        let version = parts.first.map(String.init) ?? ""
        guard Self.versions.contains(version) else {
            return .text(400, "unknown API version \"\(version)\"; supported versions: \(Self.versions.joined(separator: ","))")
        }
        let types = Self.requestTypes(version)
        guard parts.count > 1, !parts[1].isEmpty else {
            return .text(400, "Supported request types: \"\(types.joined(separator: ","))\"")
        }
        let type = String(parts[1])
        guard types.contains(type) else {
            return .text(400, "unknown request type \"\(type)\" for API \(version); supported: \(types.joined(separator: ","))")
        }
        let rest = parts.count > 2 ? String(parts[2]) : ""
        let components = rest.split(separator: "/")
        if let refusal = Self.refuseName(components, shownAs: "/" + rest) { return refusal }
        let name = "/" + components.filter { $0 != "." }.joined(separator: "/")
        do {
            return version.hasPrefix("v1") ? try v1(type, name, request) : try v2(type, name, request, version: version)
        } catch let error as APIError {
            return .text(error.status, error.message)
        } catch {
            return .text(500, "\(error)")
        }
    }

    /// A 400 for a container name that climbs out of the tree ("..", also percent-encoded: the path
    /// is decoded before it is split) or holds a NUL byte; nil for a name the store may be asked about.
    static func refuseName(_ components: [Substring], shownAs name: String) -> HTTPResponse? {
        if components.contains("..") { return .text(400, "invalid container name \"\(name)\": \"..\" is not allowed") }
        if components.contains(where: { $0.utf8.contains(0) }) {
            return .text(400, "invalid container name: a NUL byte is not allowed")
        }
        return nil
    }

    /// cAdvisor protects its UI pages; with `protectAllEndpoints`, everything but /healthz.
    func needsAuthentication(_ path: String) -> Bool {
        if protectAllEndpoints { return path != "/healthz" }
        return ["/containers", "/docker", "/static"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    struct APIError: Error {
        var status: Int
        var message: String
        static func unknownContainer(_ name: String) -> APIError { APIError(status: 404, message: "unknown container \"\(name)\"") }
        static func badParameter(_ p: String, _ v: String, _ why: String) -> APIError {
            APIError(status: 400, message: "invalid value \"\(v)\" for parameter \"\(p)\": \(why)")
        }
    }

    // MARK: what the APIs share

    /// `/dev/<name>` by device numbers; each access builds its table, so a request takes it once.
    var deviceName: CAdvisorV1Stats.DeviceNamer { manager.machineInfo.deviceNamer() }

    func snapshot(_ name: String, count: Int?, start: Int64? = nil, end: Int64? = nil) throws -> ContainerSnapshot {
        guard let s = manager.store.snapshot(name, count: count, start: start, end: end) else {
            throw APIError.unknownContainer(name)
        }
        return s
    }

    /// The container and everything under it, sorted.
    func subtree(_ name: String) -> [String] {
        let prefix = name == "/" ? "/" : name + "/"
        return manager.store.names.filter { $0 == name || $0.hasPrefix(prefix) }
    }

    /// Direct children of a container.
    func children(_ name: String) -> [String] {
        let prefix = name == "/" ? "/" : name + "/"
        return manager.store.names.filter { $0.hasPrefix(prefix) && $0 != name && !$0.dropFirst(prefix.count).includes("/") }
    }

    /// Containers of a runtime ("docker", "podman"): all of them, or the one whose id (or a prefix of
    /// at least 4 hex digits) or name is `name` without its leading slash. None is 404.
    func runtimeContainers(_ runtime: String, _ name: String, all: Bool) throws -> [String] {
        let key = String(name.dropFirst())
        let matches = manager.store.names.filter { n in
            guard let m = manager.store.metadata(n), m.runtime == runtime else { return false }
            if all { return true }
            return m.aliases.contains(key) || (key.count >= 4 && (m.aliases.last ?? "").hasPrefix(key))
        }
        guard all || !matches.isEmpty else {
            throw APIError(status: 404, message: "unable to find \(runtime == "docker" ? "Docker" : "Podman") container \"\(key)\"")
        }
        return matches
    }
}
