/// cAdvisor's events API (v1.3 and v2): a query of the event store, or with `stream=true` a
/// subscription sent as newline-delimited JSON until the client leaves.
extension APIRouter {
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
}
