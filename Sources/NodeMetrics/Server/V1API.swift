/// cAdvisor's v1.0–v1.3 API: machine, containers, subcontainers, docker, events.
extension APIRouter {
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
            let deviceName = self.deviceName // its table made once for every container
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
            let deviceName = self.deviceName // its table made once for every container
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
}
