import FoundationEssentials

/// The options cAdvisor's APIs take from a request: v1's JSON body, v2's query, RFC 3339 times.
/// A bad value is an `APIError` (400) naming the parameter.
extension APIRouter {
    /// v1's JSON body options: num_stats (default 60, -1 all), start, end (RFC 3339).
    struct V1Options {
        var numStats: Int? = 60
        var start: Int64?
        var end: Int64?
    }

    struct V1RequestBody: Decodable {
        var num_stats: Int?
        var start: String?
        var end: String?
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

    /// An RFC 3339 query or body time to nanoseconds since the epoch; anything else (including a
    /// time outside what Int64 nanoseconds hold, 1677–2262) is 400 naming it.
    static func parseTime(_ text: String, _ parameter: String) throws -> Int64 {
        guard let t = GoTime.parseRFC3339(text) else {
            throw APIError.badParameter(parameter, text, "not an RFC 3339 time between 1677-09-22 and 2262-04-11")
        }
        return t
    }

    func boolParameter(_ request: HTTPRequest, _ key: String) -> Bool? {
        request.query[key].map { $0 == "true" || $0 == "1" }
    }

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
}
