/// How the server runs a request: `/healthz` on the event loop (it answers from state), everything
/// else on a worker pool — scrapes on their own pool, so a slow API request never queues ahead of
/// one — with a limit on how many requests of one endpoint may be in flight (running or waiting
/// for a worker); past it the answer is 503 with `Retry-After`, never an unbounded queue. Scrapes of
/// the same `/metrics` URL that arrive while one is being rendered share that rendering.
public struct Workload: Sendable, Equatable {
    public enum Pool: Sendable, Equatable {
        /// Answered on the event loop: cheap and never blocking.
        case inline
        /// `/metrics`, `/metrics/resource`, `/stats/summary`: what scrapers poll.
        case scrape
        /// Everything else: cAdvisor's API, the web page, `/validate/` (reads that can be slow:
        /// `ps` walks /proc, `storage` calls statvfs, `max_age` reads cgroups, recursive stats
        /// encode every container, bcrypt checks a password).
        case api
    }

    public var pool: Pool
    /// The endpoint the limit counts and a 503 names ("/metrics", "/api/*/ps", ...).
    public var endpoint: String
    /// Requests of this endpoint in flight at once.
    public var limit: Int
    /// An event stream: it holds its place until the client leaves, not only while it is computed.
    public var isStream = false
    /// Concurrent requests with the same target may share one answer: an unauthenticated GET of
    /// the Prometheus endpoint (its text depends only on the store and the query).
    public var shareable = false
}

/// The per-endpoint limits of in-flight requests.
public struct ServingLimits: Sendable {
    /// Each scrape endpoint (enough for many Prometheus servers and metrics-server at once).
    public var scrape = 64
    /// Endpoints that read the host on demand: `ps` (/proc) and `storage` (statvfs).
    public var hostReads = 4
    /// Every other endpoint of the API and the web page.
    public var api = 16
    /// Open event streams (`stream=true`), all containers together.
    public var eventStreams = 64
    public init() {}
}

extension APIRouter {
    /// Where and under which limit `request` runs (see `Workload`).
    public func workload(_ request: HTTPRequest, limits: ServingLimits = ServingLimits()) -> Workload {
        guard let path = relativePath(request) else { return Workload(pool: .inline, endpoint: "404", limit: .max) }
        if path == "/healthz" { return Workload(pool: .inline, endpoint: "/healthz", limit: .max) }
        if path == prometheusEndpoint || path == "/metrics/resource" || path == "/stats/summary" {
            let open = isOpen(path) || passesCheaply(request)
            return Workload(pool: .scrape, endpoint: path, limit: limits.scrape,
                            shareable: path == prometheusEndpoint && request.method == "GET" && open)
        }
        guard path.hasPrefix("/api/") else {
            let first = path.split(separator: "/").first.map { "/" + $0 } ?? "/"
            return Workload(pool: .api, endpoint: first, limit: limits.api)
        }
        let parts = path.split(separator: "/", maxSplits: 3)
        let type = parts.count > 2 ? String(parts[2]) : ""
        switch type {
        case "ps", "storage":
            return Workload(pool: .api, endpoint: "/api/*/\(type)", limit: limits.hostReads)
        case "events" where boolParameter(request, "stream") == true:
            return Workload(pool: .api, endpoint: "event streams", limit: limits.eventStreams, isStream: true)
        default:
            return Workload(pool: .api, endpoint: type.isEmpty ? "/api" : "/api/*/\(type)", limit: limits.api)
        }
    }
}
