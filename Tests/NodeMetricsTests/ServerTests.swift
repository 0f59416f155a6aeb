import Foundation
import Testing
@testable import NodeMetrics

/// A minimal HTTP/1.1 client over a loopback socket (one request per connection).
enum LoopbackHTTP {
    /// A TCP socket connected to 127.0.0.1:port whose reads time out after `timeout` microseconds.
    static func connect(port: Int, timeout: Int = 10_000_000) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var tv = timeval(tv_sec: timeout / 1_000_000, tv_usec: timeout % 1_000_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    /// Sends `raw` and reads until the server closes. `finish` half-closes after sending (the server
    /// then sees the end of what a broken client sent); `timeout` bounds each read (microseconds).
    static func request(port: Int, _ raw: String, finish: Bool = false, timeout: Int = 10_000_000) throws -> (status: Int, headers: String, body: String) {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        let bytes = Array(raw.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break } // the server closed early (a refused request)
            sent += n
        }
        if finish { shutdown(fd, Int32(SHUT_WR)) }
        var response: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            response.append(contentsOf: buf[0..<n])
        }
        let text = String(decoding: response, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { return (0, text, "") }
        let head = String(text[..<split.lowerBound])
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, head, String(text[split.upperBound...]))
    }

    static func get(port: Int, _ path: String, body: String = "") throws -> (status: Int, headers: String, body: String) {
        try request(port: port, "GET \(path) HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
    }
}

extension InotifyUsers {
    /// The REST API through the router, on a real manager.
    @Suite struct RouterTests {
        let manager: ContainerManager
        let router: APIRouter

        init() throws {
            var c = ManagerConfiguration()
            c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
            manager = try ContainerManager(configuration: c)
            router = APIRouter(manager: manager)
        }

        func get(_ uri: String, body: String = "") -> HTTPResponse {
            router.handle(HTTPRequest(uri: uri, body: Array(body.utf8)))
        }

        func json(_ uri: String, body: String = "") throws -> Any {
            let r = get(uri, body: body)
            #expect(r.status == 200, "\(uri): \(r.bodyText)")
            #expect(r.contentType == "application/json")
            return try JSONSerialization.jsonObject(with: Data(r.body), options: .fragmentsAllowed)
        }

        func waitForSamples(_ n: Int) {
            let deadline = Date().addingTimeInterval(10)
            while (manager.store.snapshot("/")?.samples.count ?? 0) < n && Date() < deadline { usleep(50_000) }
        }

        @Test func errorsNameWhatIsWrong() throws {
            // Not ready (503) until the first discovery pass is done, then "ok".
            #expect(get("/healthz").status == 503 && get("/healthz").bodyText.hasPrefix("not ready"))
            manager.start()
            defer { manager.stop() }
            #expect(eventually { get("/healthz").status == 200 ? true : nil } != nil)
            #expect(get("/healthz").bodyText == "ok")
            let root = get("/")
            #expect(root.status == 307 && root.headers.contains { $0 == ("Location", "/containers/") })
            #expect(get("/api/").status == 400 && get("/api/").bodyText == "Supported API versions: v1.0,v1.1,v1.2,v1.3,v2.0,v2.1")
            #expect(get("/api/v9.9/machine").status == 400 && get("/api/v9.9/machine").bodyText.contains("\"v9.9\""))
            #expect(get("/api/v1.0").bodyText == "Supported request types: \"containers,machine\"")
            #expect(get("/api/v1.0/events/").status == 400, "events only since v1.3")
            #expect(get("/api/v1.3/containers/a/../../etc").status == 400)
            #expect(get("/api/v1.3/containers/nope") .status == 404)
            #expect(get("/api/v1.3/containers/nope").bodyText == "unknown container \"/nope\"")
            #expect(get("/api/v1.3/containers/", body: "{bad").status == 400)
            for (q, p) in [("count=-5", "count"), ("count=x", "count"), ("max_age=abc", "max_age"), ("type=bogus", "type")] {
                let r = get("/api/v2.0/summary/?\(q)")
                #expect(r.status == 400 && r.bodyText.contains("\"\(p)\""), "\(q): \(r.bodyText)")
            }
            #expect(get("/api/v1.3/events/?max_events=x").status == 400)
            #expect(get("/nothing").status == 404)
        }

        @Test func v1ContainersAndMachine() throws {
            manager.start()
            defer { manager.stop() }
            waitForSamples(3)
            let root = try #require(try json("/api/v1.3/containers/", body: #"{"num_stats": 2}"#) as? [String: Any])
            #expect(root["name"] as? String == "/")
            #expect((root["stats"] as? [Any])?.count == 2, "num_stats from the JSON body")
            let spec = try #require(root["spec"] as? [String: Any])
            #expect(spec["has_cpu"] as? Bool == true && spec["has_memory"] as? Bool == true)
            let stats = try #require((root["stats"] as? [[String: Any]])?.last)
            #expect(((stats["memory"] as? [String: Any])?["working_set"] as? UInt64 ?? 0) > 0)
            let all = try #require(try json("/api/v1.3/containers/", body: #"{"num_stats": -1}"#) as? [String: Any])
            #expect(((all["stats"] as? [Any])?.count ?? 0) >= 3)
            // The host's cgroups may come and go between the response and the count: compare until they agree.
            let subs = try #require(eventually(10) { () -> [[String: Any]]? in
                let subs = (try? json("/api/v1.3/subcontainers/")) as? [[String: Any]]
                return subs?.count == manager.store.count ? subs : nil
            }, "subcontainers never matched the store's \(manager.store.count): \(((try? json("/api/v1.3/subcontainers/")) as? [Any])?.count ?? -1)")
            #expect(subs.first?["name"] as? String == "/")
            let machine = try #require(try json("/api/v1.3/machine") as? [String: Any])
            #expect(machine["num_cores"] as? Int == ProcessInfo.processInfo.activeProcessorCount)
            let text = get("/api/v1.3/machine").bodyText
            #expect(text.contains(#""app direct_mode_capacity":0"#))
            #expect(text.range(of: "\"num_cores\"")!.lowerBound < text.range(of: "\"machine_id\"")!.lowerBound)
            #expect(try json("/api/v1.2/docker/") as? [String: Any] != nil)
            #expect(get("/api/v1.2/docker/abc").status == 404)
        }

        @Test func v2VersionSummarySpecAndEvents() throws {
            manager.start()
            defer { manager.stop() }
            waitForSamples(2)
            #expect(try json("/api/v2.0/version") as? String == AgentVersion.current)
            let summary = try #require(try json("/api/v2.0/summary/") as? [String: [String: Any]])
            let latest = try #require(summary["/"]?["latest_usage"] as? [String: Any])
            #expect((latest["memory"] as? UInt64 ?? 0) > 0)
            #expect((summary["/"]?["minute_usage"] as? [String: Any])?["cpu"] != nil)
            let recursive = eventually(10) { () -> [String: Any]? in
                let r = (try? json("/api/v2.0/summary/?recursive=true")) as? [String: Any]
                return r?.count == manager.store.count ? r : nil
            }
            #expect(recursive != nil, "the recursive summary never matched the store's \(manager.store.count)")
            let spec = try #require(try json("/api/v2.1/spec/") as? [String: [String: Any]])
            #expect((spec["/"]?["cpu"] as? [String: Any])?["quota"] == nil, "v2 does not copy quota/period")
            let attributes = try #require(try json("/api/v2.0/attributes") as? [String: Any])
            #expect(attributes["cadvisor_version"] as? String == AgentVersion.current)
            let events = try #require(try json("/api/v1.3/events/?creation_events=true&subcontainers=true&max_events=100000") as? [[String: Any]])
            #expect(events.contains { $0["event_type"] as? String == "containerCreation" && $0["container_name"] as? String == "/" })
            #expect((try json("/api/v2.0/events/?oom_events=true") as? [Any])?.isEmpty == true)
        }

        @Test func v2StatsMachinestatsAndStorage() throws {
            manager.start()
            defer { manager.stop() }
            waitForSamples(3)
            let v20 = try #require(try json("/api/v2.0/stats/?count=3") as? [String: [[String: Any]]])
            let rootStats = try #require(v20["/"])
            #expect(rootStats.count == 3)
            #expect(rootStats[0]["cpu_inst"] == nil, "no rate for the first sample")
            let inst = try #require((rootStats[2]["cpu_inst"] as? [String: Any])?["usage"] as? [String: Any])
            #expect((inst["total"] as? UInt64 ?? 0) > 0, "nanocores between the last two samples")
            #expect(rootStats[2]["has_cpu"] as? Bool == true && (rootStats[2]["network"] as? [String: Any])?["name"] != nil)
            let v21 = try #require(try json("/api/v2.1/stats/?count=2") as? [String: [String: Any]])
            let info = try #require(v21["/"])
            #expect(info["spec"] != nil && (info["stats"] as? [Any])?.count == 2)
            let net = try #require(((info["stats"] as? [[String: Any]])?.last?["network"]) as? [String: Any])
            #expect(net["name"] == nil && net["interfaces"] != nil, "v2.1 network has no flattened interface")
            let recursive = try #require(try json("/api/v2.1/stats/?recursive=true&count=1") as? [String: Any])
            #expect(recursive["/"] == nil, "v2.1 leaves the root to machinestats")
            let machine = try #require(try json("/api/v2.1/machinestats?count=2") as? [[String: Any]])
            #expect(machine.count == 2 && machine.last?["cpu_inst"] != nil)
            let fs = try #require(machine.last?["filesystem"] as? [[String: Any]])
            #expect(fs.contains { ($0["inline"] as? [String: Any])?["read_duration"] != nil })
            #expect(get("/api/v2.0/machinestats").status == 400, "machinestats is v2.1")
            let storage = try #require(try json("/api/v2.0/storage") as? [[String: Any]])
            #expect(storage.contains { ($0["labels"] as? [String]) == ["root"] && $0["mountpoint"] as? String == "/" }
                    || !manager.machineInfo.filesystems.contains { $0.mountPoint == "/" })
            #expect(get("/api/v2.0/storage?label=nope").status == 404)
        }

        @Test func psReadsProcItself() throws {
            manager.start()
            defer { manager.stop() }
            let cg = try LiveCgroup(layout: manager.layout)
            defer { cg.destroy() }
            try cg.run("sleep 60 & sleep 60 & wait")
            let deadline = Date().addingTimeInterval(10)
            var list: [[String: Any]] = []
            while Date() < deadline {
                if manager.store.contains(cg.name), get("/api/v2.0/ps\(cg.name)").status == 200 {
                    list = (try? json("/api/v2.0/ps\(cg.name)") as? [[String: Any]]) ?? []
                    if list.count == 3 { break }
                }
                usleep(100_000)
            }
            #expect(list.count == 3, "the shell and two sleeps, only this cgroup's")
            #expect(Set(list.compactMap { $0["cmd"] as? String }) == ["sh", "sleep"])
            let sleep = try #require(list.first { $0["cmd"] as? String == "sleep" })
            #expect(sleep["user"] as? String == "root" && sleep["cgroup_path"] as? String == cg.name)
            #expect((sleep["rss"] as? UInt64 ?? 0) > 0 && (sleep["virtual_size"] as? UInt64 ?? 0) > 0)
            #expect((sleep["status"] as? String)?.hasPrefix("S") == true)
            #expect((sleep["running_time"] as? String)?.count == 8 && (sleep["start_time"] as? String)?.count == 5)
            #expect((sleep["parent_pid"] as? Int64) == list.first { $0["cmd"] as? String == "sh" }?["pid"] as? Int64)
            let all = try #require(try json("/api/v2.0/ps/") as? [[String: Any]])
            #expect(all.count > list.count, "the root lists every process")
            #expect(get("/api/v2.0/ps/nope").status == 404)
            #expect(ContainerProcfs.psTime(93784) == "1-02:03:04" && ContainerProcfs.psTime(59) == "00:00:59")
            #expect(ContainerProcfs.psStartTime(1_795_000_000, now: 1_795_003_600) == "11:06")
            #expect(ContainerProcfs.psStartTime(1_795_000_000, now: 1_795_000_000 + 86_400 * 3) == "Nov18")
            #expect(ContainerProcfs.psStartTime(1_700_000_000, now: 1_795_000_000) == "2023")
        }

        @Test func validatePage() {
            manager.start()
            defer { manager.stop() }
            waitForSamples(1)
            let page = get("/validate/")
            #expect(page.status == 200 && page.contentType.hasPrefix("text/plain"))
            let text = page.bodyText
            #expect(text.contains("Kernel version: [Supported and recommended]"))
            #expect(text.contains("Mode: \(manager.layout.mode.rawValue)"))
            for path in manager.layout.mountPoints.values { #expect(text.contains(path)) }
            #expect(text.contains("Docker: ") && text.contains("containerd: "))
            #expect(text.contains("Managed containers: \(manager.store.count)"))
            #expect(get("/validate").status == 301)
        }

        @Test func urlBasePrefix() {
            let prefixed = APIRouter(manager: manager, urlBasePrefix: "/cadvisor/")
            #expect(prefixed.handle(HTTPRequest(uri: "/cadvisor/healthz")).status == 503, "routed: not ready yet")
            #expect(prefixed.handle(HTTPRequest(uri: "/healthz")).status == 404)
            #expect(prefixed.handle(HTTPRequest(uri: "/cadvisor")).headers.contains { $0 == ("Location", "/cadvisor/containers/") })
            #expect(prefixed.handle(HTTPRequest(uri: "/cadvisor/metrics")).status == 200)
        }

        @Test func webPages() throws {
            let layout = try CgroupLayout.detect()
            let cg = try LiveCgroup(layout: layout)
            defer { cg.destroy() }
            manager.start()
            defer { manager.stop() }
            let deadline = Date().addingTimeInterval(10)
            while (manager.store.snapshot(cg.name)?.samples.count ?? 0) < 2 && Date() < deadline { usleep(50_000) }
            let root = get("/containers/")
            #expect(root.status == 200 && root.contentType.hasPrefix("text/html"))
            #expect(root.bodyText.contains("<h1>/</h1>") && root.bodyText.contains("/static/ui.js?v="))
            #expect(root.bodyText.contains("href=\"/containers/\(LiveCgroup.parent)\""), "subcontainers are links")
            let page = get("/containers" + cg.name)
            #expect(page.status == 200 && page.bodyText.contains("<h1>\(cg.name)</h1>") && page.bodyText.contains("id=\"charts\""))
            #expect(get("/containers/no/such/thing").status == 404)
            #expect(get("/containers/a/../../etc").status == 400)
            #expect(get("/docker/").bodyText.contains("Docker containers"))
            #expect(WebUI.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
        }
    }

    /// The real binary on a random loopback port, with cAdvisor's flag spellings.
    @Suite struct DaemonTests {
        let binary = Package.root + "/.build/debug/node-metrics"

        func start(_ args: [String]) throws -> ChildProcess { try ChildProcess(binary, args) }

        func freePort() -> Int { Int.random(in: 20000...60000) }

        @Test func servesAndStopsOnSIGTERM() throws {
            let port = freePort()
            let agent = try start(["-port=\(port)", "-listen_ip", "127.0.0.1", "-housekeeping_interval=200ms",
                                   "--allow_dynamic_housekeeping=false", "-docker_only", "-logtostderr", "-v=2"])
            defer { agent.stop() }
            var health: (status: Int, headers: String, body: String)?
            let deadline = Date().addingTimeInterval(15)
            // 503 until the first discovery pass is done (longer on a host with many cgroups), then 200.
            while health?.status != 200 && Date() < deadline {
                health = try? LoopbackHTTP.get(port: port, "/healthz")
                if health?.status != 200 { usleep(100_000) }
            }
            #expect(health?.status == 200 && health?.body == "ok", "\(String(describing: health))")
            let version = try LoopbackHTTP.get(port: port, "/api/v2.0/version")
            #expect(version.body == "\"\(AgentVersion.current)\"" && version.headers.contains("application/json"))
            let climb = try LoopbackHTTP.request(port: port, "GET /api/v1.3/containers/a/../../x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(climb.status == 400)
            let garbage = try LoopbackHTTP.request(port: port, "NOT HTTP AT ALL\r\n\r\n")
            #expect(garbage.status == 400 || garbage.status == 0, "a malformed request is refused or closed")
            #expect(try LoopbackHTTP.get(port: port, "/healthz").status == 200, "still serving")
            agent.stop() // SIGTERM
            #expect(agent.process.terminationStatus == 0)
            let log = agent.log
            #expect(log.contains("level=info") && log.contains("msg=listening") && log.contains("msg=stopped"))
        }

        @Test func logsGoToTheJournalWhenStderrIsTheJournal() throws {
            // A journal socket of the test's own, where libsystemd sends entries, and a stderr file named
            // by JOURNAL_STREAM as the service manager would name the journal's stream.
            let dir = "/run/systemd/journal", path = dir + "/socket"
            #expect(!FileManager.default.fileExists(atPath: path), "no real journald on this machine")
            let createdDir = !FileManager.default.fileExists(atPath: dir)
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            defer {
                close(fd)
                unlink(path)
                if createdDir { rmdir(dir) }
            }
            var addr = sockaddr_un()
            addr.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &addr.sun_path) { raw in
                for (i, b) in path.utf8.enumerated() { raw[i] = b }
            }
            let bound = withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
            #expect(bound == 0)
            var tv = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))

            let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("nm-journal-\(getpid())").path
            _ = FileManager.default.createFile(atPath: errPath, contents: nil)
            defer { try? FileManager.default.removeItem(atPath: errPath) }
            let errHandle = try #require(FileHandle(forWritingAtPath: errPath))
            var st = stat()
            fstat(errHandle.fileDescriptor, &st)
            let port = freePort()
            let p = Process()
            p.executableURL = URL(fileURLWithPath: binary)
            p.arguments = ["-port=\(port)", "-listen_ip=127.0.0.1"]
            p.environment = ProcessInfo.processInfo.environment.merging(["JOURNAL_STREAM": "\(st.st_dev):\(st.st_ino)"]) { $1 }
            p.standardError = errHandle
            p.standardOutput = FileHandle.nullDevice
            try p.run()
            defer { if p.isRunning { p.terminate() } }
            var entries: [String] = []
            let deadline = Date().addingTimeInterval(15)
            while !entries.contains(where: { $0.contains("MESSAGE=listening") }) && Date() < deadline {
                var buf = [UInt8](repeating: 0, count: 65536)
                let n = recv(fd, &buf, buf.count, 0)
                if n > 0 { entries.append(String(decoding: buf[0..<n], as: UTF8.self)) }
            }
            let entry = try #require(entries.first { $0.contains("MESSAGE=listening") })
            #expect(entry.contains("PRIORITY=6\n") && entry.contains("SYSLOG_IDENTIFIER=node-metrics\n"))
            #expect(entry.contains("NM_ADDRESS="), "metadata as journal fields")
            p.terminate()
            p.waitUntilExit()
            let stderrText = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            #expect(!stderrText.contains("msg=listening"), "nothing in logfmt on the journal's stream")
        }

        @Test func badFlagsStopStartUpNamingThem() throws {
            for (args, mention) in [(["-no_such_flag=1"], "no_such_flag"), (["-port=abc"], "port"),
                                    (["-housekeeping_interval=fast"], "housekeeping_interval"),
                                    (["-disable_metrics=cpu,bogus"], "bogus"),
                                    (["-event_storage_age_limit=oom=xyz"], "event_storage_age_limit"),
                                    (["-allow_dynamic_housekeeping=maybe"], "allow_dynamic_housekeeping")] {
                let r = try run(binary, args)
                let text = r.output
                #expect(r.status != 0, "\(args)")
                #expect(text.contains(mention), "\(args): \(text)")
            }
        }

        @Test func unbuiltFeaturesWarnAndVersionPrints() throws {
            let port = freePort()
            let agent = try start(["-port=\(port)", "-listen_ip=127.0.0.1", "-enable_load_reader=true", "-profiling"])
            // Once it serves, start-up (and its warnings) is over.
            let deadline = Date().addingTimeInterval(15)
            while (try? LoopbackHTTP.get(port: port, "/healthz"))?.status != 200 && Date() < deadline { usleep(100_000) }
            agent.stop()
            let text = agent.log
            // (-storage_driver is built since issue 14: it is no longer among them.)
            #expect(text.contains("-enable_load_reader") && text.contains("-profiling") && text.contains("level=warning"), "\(text)")
            #expect(try run(binary, ["-version"]).output.contains(AgentVersion.current))
        }
    }
}

@Suite struct RetentionFlagTests {
    @Test func cAdvisorRetentionFlags() throws {
        let r = try EventRetention.parse(ages: "default=24h,oom=1h", counts: "default=100000,creation=10")
        #expect(r.maxAge[.oom] == Duration.seconds(3600).nanoseconds)
        #expect(r.maxAge[.containerDeletion] == Duration.seconds(86400).nanoseconds)
        #expect(r.maxCount[.containerCreation] == 10 && r.maxCount[.oomKill] == 100_000)
        #expect(try EventRetention.parse(ages: "default=0", counts: "default=0").maxCount[.oom] == 0)
        #expect(throws: EventRetention.FlagError.self) { try EventRetention.parse(ages: "bogus=1h", counts: "") }
        #expect(throws: EventRetention.FlagError.self) { try EventRetention.parse(ages: "", counts: "default=-1") }
        #expect(throws: EventRetention.FlagError.self) { try EventRetention.parse(ages: "oom", counts: "") }
    }
}

extension InotifyUsers {
    /// `stream=true` events over a real loopback connection to the in-process server.
    @Suite struct EventStreamTests {
        @Test func eventsArriveAsNewlineDelimitedJSONChunks() async throws {
            var c = ManagerConfiguration()
            c.housekeeping = HousekeepingPolicy(interval: .milliseconds(200), maxInterval: .seconds(1), dynamic: false)
            let manager = try ContainerManager(configuration: c)
            manager.start()
            defer { manager.stop() }
            let server = HTTPServer(router: APIRouter(manager: manager))
            let channel = try await server.bind(host: "127.0.0.1", port: 0)
            let port = try #require(channel.localAddress?.port)

            let fd = try LoopbackHTTP.connect(port: port, timeout: 200_000)
            var socketOpen = true
            defer { if socketOpen { close(fd) } }
            let request = Array("GET /api/v1.3/events/?stream=true&creation_events=true&subcontainers=true HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            var received = ""
            // The blocking recv runs on a thread of its own: the server's stream writer is a Swift task,
            // and other suites running in parallel may hold the cooperative pool's other thread.
            func readSome() async {
                let chunk = await withCheckedContinuation { (done: CheckedContinuation<String, Never>) in
                    Thread.detachNewThread {
                        var buf = [UInt8](repeating: 0, count: 4096)
                        let n = recv(fd, &buf, buf.count, 0)
                        done.resume(returning: n > 0 ? String(decoding: buf[0..<n], as: UTF8.self) : "")
                    }
                }
                received += chunk
            }
            let headDeadline = Date().addingTimeInterval(5)
            while !received.contains("\r\n\r\n") && Date() < headDeadline { await readSome() }
            #expect(received.contains("200 OK") && received.lowercased().contains("transfer-encoding: chunked"))

            let cg = try LiveCgroup(layout: manager.layout)
            defer { cg.destroy() }
            let deadline = Date().addingTimeInterval(10)
            while !received.contains("\"container_name\":\"\(cg.name)\"") && Date() < deadline { await readSome() }
            #expect(received.contains("\"event_type\":\"containerCreation\",\"event_data\":{}}\n"))
            #expect(received.contains("\"container_name\":\"\(cg.name)\""), "the new cgroup's creation was streamed")
            #expect(manager.events.subscriberCount == 1)
            close(fd)
            socketOpen = false
            let gone = Date().addingTimeInterval(5)
            while manager.events.subscriberCount > 0 && Date() < gone {
                manager.events.add(ContainerEvent(containerName: "/x", timestampNanos: 0, type: .containerCreation))
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(manager.events.subscriberCount == 0, "the subscription ends with the connection")
            try await channel.close()
            try await server.shutdown()
        }
    }
}
