import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The agent's version, as /api/v2.0/version and cadvisor_version_info report it.
public enum AgentVersion {
    public static let current = "0.1.0"
    /// The source revision (cadvisor_version_info's cadvisorRevision); set by release builds.
    public static let revision = ""
}

/// Serves cAdvisor's REST API from the manager's store: routes, request options, and cAdvisor's
/// response shapes. Deliberate differences from cAdvisor: an unknown container is 404 (cAdvisor:
/// 500) with cAdvisor's message text; a bad parameter, version or request type is 400 naming it; a
/// container name that climbs out of the cgroup tree with ".." is refused (400).
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
    /// The node name and system containers of the kubelet endpoints (/stats/summary, /metrics/resource).
    public let kubelet: KubeletConfiguration

    public init(manager: ContainerManager, urlBasePrefix: String = "", exporter: PrometheusExporter? = nil,
                prometheusEndpoint: String = "/metrics", authenticator: HTTPAuthenticator? = nil,
                protectAllEndpoints: Bool = false, kubelet: KubeletConfiguration = KubeletConfiguration()) {
        self.manager = manager
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

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        var path = request.path
        if !urlBasePrefix.isEmpty {
            guard path == urlBasePrefix || path.hasPrefix(urlBasePrefix + "/") else {
                return .text(404, "404 page not found\n")
            }
            path = String(path.dropFirst(urlBasePrefix.count))
        }
        if let authenticator, needsAuthentication(path), let denied = authenticator.authenticate(request) {
            return denied
        }
        if path.isEmpty || path == "/" {
            return HTTPResponse(status: 307, body: [], headers: [("Location", urlBasePrefix + "/containers/")])
        }
        if path == "/healthz" { return .text(200, "ok") }
        if path == prometheusEndpoint { return metrics(request) }
        for (page, docker) in [("/containers", false), ("/docker", true)] where path == page || path.hasPrefix(page + "/") {
            let components = path.dropFirst(page.count).split(separator: "/")
            if components.contains("..") { return .text(400, "invalid container name: \"..\" is not allowed") }
            if docker && components.isEmpty { return WebUI.dockerIndex(router: self) }
            return WebUI.page(router: self, name: "/" + components.joined(separator: "/"), docker: docker)
        }
        if path == "/stats/summary" {
            guard request.method == "GET" || request.method == "POST" else { return .text(405, "405 method not allowed\n") }
            // As the kubelet: only the exact value "true" selects the cpu-and-memory summary.
            var w = JSONWriter(capacity: 1 << 16)
            KubeletSummary.write(KubeletView(store: manager.store, systemContainers: kubelet.systemContainers),
                                 node: kubelet.node(manager: manager), onlyCPUAndMemory: request.query["only_cpu_and_memory"] == "true",
                                 to: &w)
            return .json(w)
        }
        if path == "/metrics/resource" {
            let body = ResourceMetrics.text(KubeletView(store: manager.store, systemContainers: kubelet.systemContainers))
            return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
        }
        if path == "/validate/" { return .text(200, ValidationReport.text(manager: manager)) }
        if path == "/validate" {
            return HTTPResponse(status: 301, body: [], headers: [("Location", urlBasePrefix + "/validate/")])
        }
        if path == "/api" || path == "/api/" {
            return .text(400, "Supported API versions: \(Self.versions.joined(separator: ","))")
        }
        guard path.hasPrefix("/api/") else { return .text(404, "404 page not found\n") }
        let parts = path.dropFirst("/api/".count).split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        let version = String(parts[0])
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
        if components.contains("..") {
            return .text(400, "invalid container name \"/\(rest)\": \"..\" is not allowed")
        }
        let name = "/" + components.filter { $0 != "." }.joined(separator: "/")
        do {
            return version.hasPrefix("v1") ? try v1(type, name, request) : try v2(type, name, request, version: version)
        } catch let error as APIError {
            return .text(error.status, error.message)
        } catch {
            return .text(500, "\(error)")
        }
    }

    /// cAdvisor protects its UI pages; with `protectAllEndpoints`, everything but /healthz.
    func needsAuthentication(_ path: String) -> Bool {
        if protectAllEndpoints { return path != "/healthz" }
        return ["/containers", "/docker", "/static"].contains { path == $0 || path.hasPrefix($0 + "/") }
    }

    /// The Prometheus exposition. As cAdvisor, the v2 options apply (`type=docker|podman` limits it
    /// to that runtime's containers, `max_age` refreshes stale samples first; `count` and `recursive`
    /// are fixed); beyond cAdvisor, `namespace=a,b` and `selector=<label selector>` narrow it. A bad
    /// value is 400 naming it (cAdvisor: 500).
    func metrics(_ request: HTTPRequest) -> HTTPResponse {
        var filter: MetricsFilter?
        do {
            let o = try v2Options(request)
            if request.query["namespace"] != nil || request.query["selector"] != nil || o.type != "name" {
                var f = try MetricsFilter(namespaces: request.query["namespace"] ?? "", selector: request.query["selector"] ?? "")
                if o.type != "name" { f.runtimes = [o.type] }
                filter = f
            }
            if let maxAge = o.maxAge { manager.refresh(manager.store.names, maxAge: maxAge) }
        } catch let error as APIError {
            return .text(error.status, error.message)
        } catch let error as LabelSelector.ParseError {
            return .text(400, error.description)
        } catch {
            return .text(400, "\(error)")
        }
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                            body: exporter.scrape(filter: filter))
    }

    struct APIError: Error {
        var status: Int
        var message: String
        static func unknownContainer(_ name: String) -> APIError { APIError(status: 404, message: "unknown container \"\(name)\"") }
        static func badParameter(_ p: String, _ v: String, _ why: String) -> APIError {
            APIError(status: 400, message: "invalid value \"\(v)\" for parameter \"\(p)\": \(why)")
        }
    }

    var deviceName: CAdvisorV1Stats.DeviceNamer {
        let disks = manager.machineInfo.diskMap
        return { major, minor in disks["\(major):\(minor)"].map { "/dev/" + $0.name } ?? "" }
    }

    // MARK: v1

    /// v1's JSON body options: num_stats (default 60, -1 all), start, end (RFC 3339).
    struct V1Options {
        var numStats: Int? = 60
        var start: Int64?
        var end: Int64?
    }

    func v1Options(_ body: [UInt8]) throws -> V1Options {
        var o = V1Options()
        guard !body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) else { return o }
        guard let object = try? JSONDecoder().decode(V1RequestBody.self, from: Data(body)) else {
            throw APIError(status: 400, message: "unable to decode the json value")
        }
        if let n = object.num_stats { o.numStats = n < 0 ? nil : n }
        o.start = try object.start.map { try Self.parseTime($0, "start") }
        o.end = try object.end.map { try Self.parseTime($0, "end") }
        return o
    }

    struct V1RequestBody: Decodable {
        var num_stats: Int?
        var start: String?
        var end: String?
    }

    /// An RFC 3339 query or body time to nanoseconds since the epoch; anything else is 400 naming it.
    static func parseTime(_ text: String, _ parameter: String) throws -> Int64 {
        guard let t = GoTime.parseRFC3339(text) else { throw APIError.badParameter(parameter, text, "not an RFC 3339 time") }
        return t
    }

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
        return manager.store.names.filter { $0.hasPrefix(prefix) && $0 != name && !$0.dropFirst(prefix.count).contains("/") }
    }

    func v1(_ type: String, _ name: String, _ request: HTTPRequest) throws -> HTTPResponse {
        var w = JSONWriter()
        switch type {
        case "machine":
            CAdvisorV1Info.writeMachineInfo(manager.machineInfo, &w)
        case "containers":
            let o = try v1Options(request.body)
            let s = try snapshot(name, count: o.numStats, start: o.start, end: o.end)
            CAdvisorV1Info.writeContainerInfo(s, subcontainers: children(name), deviceName: deviceName, to: &w)
        case "subcontainers":
            let o = try v1Options(request.body)
            let names = subtree(name)
            guard !names.isEmpty else { throw APIError.unknownContainer(name) }
            w.beginArray()
            for n in names {
                guard let s = manager.store.snapshot(n, count: o.numStats, start: o.start, end: o.end) else { continue }
                CAdvisorV1Info.writeContainerInfo(s, subcontainers: children(n), deviceName: deviceName, to: &w)
            }
            w.endArray()
        case "docker":
            // cAdvisor: a map of Docker containers by name; "/" is all of them, else one by id or name.
            let o = try v1Options(request.body)
            let names = try runtimeContainers("docker", name, all: name == "/")
            w.beginObject()
            for n in names {
                guard let s = manager.store.snapshot(n, count: o.numStats, start: o.start, end: o.end) else { continue }
                w.key(n)
                CAdvisorV1Info.writeContainerInfo(s, subcontainers: [], deviceName: deviceName, to: &w)
            }
            w.endObject()
        case "events":
            return try events(name, request)
        default:
            throw APIError(status: 400, message: "unknown request type \"\(type)\"")
        }
        return .json(w)
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

    // MARK: events

    func boolParameter(_ request: HTTPRequest, _ key: String) -> Bool? {
        request.query[key].map { $0 == "true" || $0 == "1" }
    }

    /// The event filter of a request's query (cAdvisor's parameters; bad values are 400 here).
    func eventFilter(_ name: String, _ request: HTTPRequest) throws -> EventFilter {
        var f = EventFilter()
        f.containerName = name
        f.includeSubcontainers = boolParameter(request, "subcontainers") ?? false
        let typeParameters: [(String, EventType)] = [("oom_events", .oom), ("oom_kill_events", .oomKill),
                                                     ("creation_events", .containerCreation),
                                                     ("deletion_events", .containerDeletion)]
        if boolParameter(request, "all_events") != true {
            let chosen = typeParameters.filter { boolParameter(request, $0.0) == true }.map(\.1)
            f.types = Set(chosen)
        }
        if let m = request.query["max_events"] {
            guard let n = Int(m) else { throw APIError.badParameter("max_events", m, "not an integer") }
            f.maxEvents = n < 0 ? nil : n
        }
        f.start = try request.query["start_time"].map { try Self.parseTime($0, "start_time") }
        f.end = try request.query["end_time"].map { try Self.parseTime($0, "end_time") }
        return f
    }

    func events(_ name: String, _ request: HTTPRequest) throws -> HTTPResponse {
        var f = try eventFilter(name, request)
        if boolParameter(request, "stream") == true {
            f.maxEvents = nil
            var response = HTTPResponse(status: 200, contentType: "application/json", body: [])
            response.eventStream = manager.events.subscribe(f)
            return response
        }
        var w = JSONWriter()
        w.beginArray()
        for e in manager.events.query(f) { CAdvisorV1Info.writeEvent(e, &w) }
        w.endArray()
        return .json(w)
    }

    // MARK: v2

    /// v2 request options: type (name|docker|podman), count (default 64, -1 all), recursive, max_age.
    struct V2Options {
        var type = "name"
        var count: Int? = 64
        var recursive = false
        var maxAge: Duration?
    }

    func v2Options(_ request: HTTPRequest) throws -> V2Options {
        var o = V2Options()
        if let t = request.query["type"] {
            guard ["name", "docker", "podman"].contains(t) else { throw APIError.badParameter("type", t, "unknown 'type' (name, docker, podman)") }
            o.type = t
        }
        if let c = request.query["count"] {
            guard let n = Int(c), n >= -1 else { throw APIError.badParameter("count", c, "must be an integer ≥ -1") }
            o.count = n == -1 ? nil : n
        }
        o.recursive = request.query["recursive"] == "true"
        if let m = request.query["max_age"] {
            guard let d = try? GoDuration.parse(m) else { throw APIError.badParameter("max_age", m, "not a duration (e.g. 10s)") }
            o.maxAge = d
        }
        return o
    }

    func v2Names(_ name: String, _ o: V2Options) throws -> [String] {
        let names: [String]
        if o.type != "name" {
            // cAdvisor: recursive only from "/" (every container of the runtime); else an id or name.
            if o.recursive && name != "/" {
                throw APIError(status: 400, message: "invalid request for type \(o.type): recursive is only supported from \"/\"")
            }
            names = try runtimeContainers(o.type, name, all: name == "/")
        } else if o.recursive {
            names = subtree(name)
            guard !names.isEmpty else { throw APIError.unknownContainer(name) }
        } else {
            guard manager.store.contains(name) else { throw APIError.unknownContainer(name) }
            names = [name]
        }
        if let maxAge = o.maxAge { manager.refresh(names, maxAge: maxAge) }
        return names
    }

    func v2(_ type: String, _ name: String, _ request: HTTPRequest, version: String) throws -> HTTPResponse {
        var w = JSONWriter()
        switch type {
        case "version":
            w.value(AgentVersion.current)
        case "machine":
            CAdvisorV1Info.writeMachineInfo(manager.machineInfo, &w)
        case "attributes":
            CAdvisorV2Info.writeAttributes(manager.machineInfo, &w)
        case "summary":
            let o = try v2Options(request)
            w.beginObject()
            for n in try v2Names(name, o) {
                guard let s = manager.store.snapshot(n, count: 0) else { continue }
                w.object(n) { w in CAdvisorV2Info.writeDerivedStats(s.derived, &w) }
            }
            w.endObject()
        case "spec":
            let o = try v2Options(request)
            w.beginObject()
            for n in try v2Names(name, o) {
                guard let s = manager.store.snapshot(n, count: 1) else { continue }
                w.object(n) { w in CAdvisorV2Info.writeSpec(s, &w) }
            }
            w.endObject()
        case "stats":
            let o = try v2Options(request)
            w.beginObject()
            for n in try v2Names(name, o) {
                guard let s = manager.store.snapshot(n, count: o.count) else { continue }
                if version == "v2.1" {
                    if n == "/" && o.recursive { continue } // v2.1 leaves the root out: that is machinestats
                    w.key(n)
                    CAdvisorV2Stats.writeInfo(s, deviceName: deviceName, &w)
                } else {
                    w.key(n)
                    CAdvisorV2Stats.writeDeprecated(s, deviceName: deviceName, &w)
                }
            }
            w.endObject()
        case "appmetrics":
            // Custom application metrics come from collectors configured by container labels
            // (io.cadvisor.metric.*), which this agent does not run: every container has none.
            let o = try v2Options(request)
            w.beginObject()
            for n in try v2Names(name, o) { w.object(n) { _ in } }
            w.endObject()
        case "machinestats":
            let o = try v2Options(request)
            if let maxAge = o.maxAge { manager.refresh(["/"], maxAge: maxAge) }
            guard let root = manager.store.snapshot("/", count: o.count) else {
                throw APIError.unknownContainer("/")
            }
            CAdvisorV2Stats.writeMachineStats(root, &w)
        case "storage":
            try writeStorage(request, &w)
        case "ps":
            let o = try v2Options(request)
            guard let container = o.type == "name" ? (manager.store.contains(name) ? name : nil)
                    : try runtimeContainers(o.type, name, all: false).first else { throw APIError.unknownContainer(name) }
            let procfs: Procfs
            do { procfs = try Procfs(paths: manager.configuration.paths) } catch {
                throw APIError(status: 500, message: "cannot read /proc: \(error)")
            }
            let list = ContainerProcfs(paths: manager.configuration.paths).processList(container: container, procfs: procfs)
            w.beginArray()
            for p in list {
                w.beginObject()
                w.field("user", p.user)
                w.field("pid", p.pid)
                w.field("parent_pid", p.parentPID)
                w.field("start_time", p.startTime)
                w.field("percent_cpu", p.percentCPU)
                w.field("percent_mem", p.percentMemory)
                w.field("rss", p.rss)
                w.field("virtual_size", p.virtualSize)
                w.field("status", p.status)
                w.field("running_time", p.runningTime)
                w.field("cgroup_path", p.cgroupPath)
                w.field("cmd", p.command)
                w.field("fd_count", Int64(p.fdCount))
                w.field("psr", p.processor)
                w.endObject()
            }
            w.endArray()
        case "events":
            return try events(name, request)
        default:
            throw APIError(status: 400, message: "unknown request type \"\(type)\"")
        }
        return .json(w)
    }

    /// `[]FsInfo` of the host's block filesystems. The filesystem mounted at / is labelled `root`
    /// (runtime labels such as `docker-images` come with the runtime integrations); `?label=` selects by
    /// label and `?uuid=` by filesystem UUID (/dev/disk/by-uuid); either matching nothing is 404.
    func writeStorage(_ request: HTTPRequest, _ w: inout JSONWriter) throws {
        let paths = manager.configuration.paths
        let mounted = manager.machineInfo.filesystems
        let usage = ContainerProcfs(paths: paths).filesystems(mounted, disks: [])
        func mountPoint(_ device: String) -> String { mounted.first { $0.device == device }?.mountPoint ?? "" }
        func labels(_ device: String) -> [String] { mountPoint(device) == "/" ? ["root"] : [] }
        var selected = usage
        if let label = request.query["label"] {
            selected = usage.filter { labels($0.device).contains(label) }
            guard !selected.isEmpty else { throw APIError(status: 404, message: "no filesystem with label \"\(label)\"") }
        } else if let uuid = request.query["uuid"] {
            var target = [CChar](repeating: 0, count: 256)
            let n = readlink(paths.path("/dev/disk/by-uuid/\(uuid)"), &target, target.count - 1)
            let device = n > 0 ? "/dev/" + String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(separator: "/").last.map(String.init)! : ""
            selected = usage.filter { $0.device == device }
            guard !selected.isEmpty else { throw APIError(status: 404, message: "no filesystem with UUID \"\(uuid)\"") }
        }
        w.beginArray()
        for fs in selected {
            w.beginObject()
            w.field("device", fs.device)
            w.field("mountpoint", mountPoint(fs.device))
            w.field("capacity", fs.capacity)
            w.field("available", fs.available)
            w.field("usage", fs.usage)
            w.array("labels", labels(fs.device)) { w, l in w.value(l) }
            w.field("inodes", fs.inodes)
            w.field("inodes_free", fs.inodesFree)
            w.endObject()
        }
        w.endArray()
    }
}
