/// cAdvisor's v2.0 and v2.1 API: version, attributes, machine, summary, spec, stats, appmetrics,
/// machinestats (v2.1), storage, ps, events.
extension APIRouter {
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
            let deviceName = self.deviceName // its table made once for every container
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
            try writeProcesses(name, request, &w)
        case "events":
            return try events(name, request)
        default:
            throw APIError(status: 400, message: "unknown request type \"\(type)\"")
        }
        return .json(w)
    }

    /// `[]ProcessInfo` of a container (`?type=docker|podman` takes an id or name), read from /proc now.
    func writeProcesses(_ name: String, _ request: HTTPRequest, _ w: inout JSONWriter) throws {
        let o = try v2Options(request)
        guard let container = o.type == "name" ? (manager.store.contains(name) ? name : nil)
                : try runtimeContainers(o.type, name, all: false).first else { throw APIError.unknownContainer(name) }
        let list: [ProcessEntry]
        do { list = try manager.processList(container: container) } catch {
            throw APIError(status: 500, message: "cannot read /proc: \(error)")
        }
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
    }

    /// `[]FsInfo` of the host's block filesystems. The filesystem mounted at / is labelled `root`
    /// (runtime labels such as `docker-images` come with the runtime integrations); `?label=` selects by
    /// label and `?uuid=` by filesystem UUID (/dev/disk/by-uuid); either matching nothing is 404. A
    /// `uuid` that is not one plain name ("..", "/", NUL) is 400: it never names another host path.
    func writeStorage(_ request: HTTPRequest, _ w: inout JSONWriter) throws {
        let mounted = manager.mountedFilesystems()
        func labels(_ fs: ContainerManager.MountedFilesystem) -> [String] { fs.mountPoint == "/" ? ["root"] : [] }
        var selected = mounted
        if let label = request.query["label"] {
            selected = mounted.filter { labels($0).contains(label) }
            guard !selected.isEmpty else { throw APIError(status: 404, message: "no filesystem with label \"\(label)\"") }
        } else if let uuid = request.query["uuid"] {
            guard DiskByUUID.isPlainName(uuid) else {
                throw APIError.badParameter("uuid", uuid, "a filesystem UUID is one name: no \"/\", \"..\" or NUL")
            }
            let device = manager.filesystemDevice(uuid: uuid)
            selected = mounted.filter { $0.usage.device == device }
            guard !selected.isEmpty else { throw APIError(status: 404, message: "no filesystem with UUID \"\(uuid)\"") }
        }
        w.beginArray()
        for fs in selected {
            w.beginObject()
            w.field("device", fs.usage.device)
            w.field("mountpoint", fs.mountPoint)
            w.field("capacity", fs.usage.capacity)
            w.field("available", fs.usage.available)
            w.field("usage", fs.usage.usage)
            w.array("labels", labels(fs)) { w, l in w.value(l) }
            w.field("inodes", fs.usage.inodes)
            w.field("inodes_free", fs.usage.inodesFree)
            w.endObject()
        }
        w.endArray()
    }
}
