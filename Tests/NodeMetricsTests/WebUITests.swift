import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

/// The web page in a real headless Chromium (`HeadlessChromium`, DevTools protocol): after two
/// updates every chart exists with data points where the JSON API has the data, the figures shown
/// are the API's at the sample the page shows, the process table has the busy process, the console
/// has no errors; screenshots go to `.build/ui-artifacts/`.
enum WebUIPage {
    static let artifacts = Package.root + "/.build/ui-artifacts"
    static let charts = ["cpu-total", "cpu-per-core", "cpu-user-kernel", "memory", "network", "network-errors", "diskio", "filesystem", "pressure"]

    /// What the page shows, read from its DOM in one go (between two updates).
    static let stateScript = """
    JSON.stringify({updates: +document.body.dataset.updates || 0, name: document.body.dataset.name,
     figures: Object.fromEntries([...document.querySelectorAll('[data-key]')].map(e => [e.dataset.key, {raw: e.dataset.raw, ts: e.dataset.ts, text: e.textContent}])),
     charts: [...document.querySelectorAll('svg.chart')].map(s => ({id: s.id, empty: s.classList.contains('empty-chart'),
       series: [...s.querySelectorAll('polyline')].map(p => p.getAttribute('points').trim().split(/\\s+/).length),
       labels: [...s.querySelectorAll('text')].map(t => t.textContent)})),
     pids: [...document.querySelectorAll('#ps tbody tr')].map(r => +r.dataset.pid),
     status: document.getElementById('status').textContent,
     rendered: (performance.getEntriesByName('nm-rendered')[0] || {}).startTime || 0})
    """

    /// POST to the agent (the v1 API takes its options as a JSON body).
    static func post(_ agent: RunningAgent, _ path: String, _ body: String, headers: String = "") throws -> Any? {
        let r = try LoopbackHTTP.request(port: agent.port, "POST \(path) HTTP/1.1\r\nHost: x\r\n\(headers)Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        guard r.status == 200 else { throw TestFailure("POST \(path): \(r.status) \(r.body)") }
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8))
    }

    static func number(_ any: Any?) -> Double? { (any as? NSNumber)?.doubleValue }

    static func milliseconds(_ ts: String) -> Double {
        // Whole seconds through ISO8601DateFormatter, the fraction by hand (nanoseconds).
        let whole = String(ts.prefix(19)) + "Z"
        let f = ISO8601DateFormatter()
        let seconds = f.date(from: whole)?.timeIntervalSince1970 ?? .nan
        var fraction = 0.0
        if let dot = ts.firstIndex(of: "."), let end = ts.firstIndex(of: "Z") { fraction = Double("0" + ts[dot..<end]) ?? 0 }
        return (seconds + fraction) * 1000
    }

    /// Loads `path`, waits for two updates after the first render, checks the page against the API
    /// and saves a screenshot named `label`. Returns the page's state and the cgroup name it shows.
    @discardableResult
    static func check(_ agent: RunningAgent, _ browser: HeadlessChromium, _ path: String, label: String,
                      busyPID: Int32? = nil, url: String? = nil, prefix: String = "", headers: String = "") throws -> [String: Any] {
        func get(_ path: String) throws -> Any? {
            let r = try agent.get(prefix + path, headers: headers)
            guard r.status == 200 else { throw TestFailure("GET \(path): \(r.status) \(r.body)") }
            return try JSONSerialization.jsonObject(with: Data(r.body.utf8))
        }
        try browser.navigate(url ?? "http://127.0.0.1:\(agent.port)\(path)")
        let state = try #require(try eventually(30 * TestTiming.slowdown) { () -> [String: Any]? in
            guard let text = try browser.evaluate(stateScript) as? String,
                  let s = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  (s["updates"] as? Int ?? 0) >= 3 else { return nil }
            // The busy process shows up in the process table once /proc has it.
            if let busyPID, !((s["pids"] as? [Int]) ?? []).contains(Int(busyPID)) { return nil }
            return s
        }, "\(label): the page did not update twice (console: \(browser.errors))")
        let name = try #require(state["name"] as? String)
        let figures = try #require(state["figures"] as? [String: [String: String]])
        let ts = try #require(figures["timestamp"]?["raw"])
        func raw(_ key: String) -> Double? { figures[key]?["raw"].flatMap { Double($0) } }

        // The API at the sample the page shows.
        let info = try #require(try post(agent, prefix + "/api/v1.3/containers\(name)", "{\"num_stats\":-1}", headers: headers) as? [String: Any])
        let stats = try #require(info["stats"] as? [[String: Any]])
        let at = try #require(stats.firstIndex { $0["timestamp"] as? String == ts }, "\(label): the API has the page's sample \(ts)")
        let stat = stats[at]
        let memory = try #require(stat["memory"] as? [String: Any])
        #expect(raw("memory.usage") == number(memory["usage"]), "\(label) memory usage")
        #expect(raw("memory.working_set") == number(memory["working_set"]), "\(label) working set")
        #expect(figures["memory.usage"]?["text"]?.hasSuffix("iB") == true || figures["memory.usage"]?["text"]?.hasSuffix(" B") == true)
        let usage = try #require((stat["cpu"] as? [String: Any])?["usage"] as? [String: Any])
        if at > 0, let prevUsage = (stats[at - 1]["cpu"] as? [String: Any])?["usage"] as? [String: Any] {
            let dt = (milliseconds(ts) - milliseconds(stats[at - 1]["timestamp"] as? String ?? "")) * 1e6
            for (key, field) in [("cpu.cores", "total"), ("cpu.user", "user"), ("cpu.system", "system")] {
                let expected = ((number(usage[field]) ?? 0) - (number(prevUsage[field]) ?? 0)) / dt
                let shown = try #require(raw(key), "\(label) \(key)")
                #expect(abs(shown - expected) <= 1e-4 * max(1, expected), "\(label) \(key): \(shown) vs \(expected)")
                #expect(figures[key]?["text"]?.hasSuffix(" cores") == true)
            }
        }
        let interfaces = (stat["network"] as? [String: Any])?["interfaces"] as? [[String: Any]] ?? []
        for i in interfaces {
            let n = i["name"] as? String ?? ""
            #expect(raw("net.\(n).rx_bytes") == number(i["rx_bytes"]), "\(label) \(n) rx bytes")
        }
        let filesystems = stat["filesystem"] as? [[String: Any]] ?? []
        for f in filesystems {
            let d = f["device"] as? String ?? ""
            #expect(raw("fs.\(d).usage") == number(f["usage"]), "\(label) \(d) usage")
        }
        let spec = try #require(info["spec"] as? [String: Any])
        #expect(raw("limits.memory") == number((spec["memory"] as? [String: Any])?["limit"]) ?? 0, "\(label) memory limit")
        #expect(raw("limits.quota") == number((spec["cpu"] as? [String: Any])?["quota"]) ?? 0, "\(label) quota")
        #expect(raw("limits.shares") == number((spec["cpu"] as? [String: Any])?["limit"]), "\(label) shares")
        #expect(raw("limits.pids") == number((spec["processes"] as? [String: Any])?["limit"]) ?? 0, "\(label) pids")
        let machine = try #require(try get("/api/v1.3/machine") as? [String: Any])
        #expect(raw("machine.cores") == number(machine["num_cores"]))
        #expect(raw("machine.memory") == number(machine["memory_capacity"]))

        // Every chart; data points wherever the API has the data.
        let charts = try #require(state["charts"] as? [[String: Any]])
        #expect(charts.compactMap { $0["id"] as? String } == charts.compactMap { $0["id"] as? String }.filter(Self.charts.contains))
        #expect(Set(charts.compactMap { $0["id"] as? String }) == Set(Self.charts), "\(label): every chart exists")
        let psiPresent = [(stat["cpu"] as? [String: Any])?["psi"], memory["psi"], (stat["diskio"] as? [String: Any])?["psi"]].contains {
            (number((($0 as? [String: Any])?["some"] as? [String: Any])?["total"]) ?? 0) > 0
        }
        let hasData = ["cpu-total": true, "cpu-user-kernel": true, "memory": true,
                       "cpu-per-core": !((usage["per_cpu_usage"] as? [Any]) ?? []).isEmpty,
                       "network": !interfaces.isEmpty, "network-errors": !interfaces.isEmpty,
                       "diskio": !(((stat["diskio"] as? [String: Any])?["io_service_bytes"] as? [Any]) ?? []).isEmpty,
                       "filesystem": !filesystems.isEmpty, "pressure": psiPresent]
        for c in charts {
            let id = c["id"] as? String ?? ""
            let series = c["series"] as? [Int] ?? []
            if hasData[id] == true {
                #expect(!series.isEmpty && series.allSatisfy { $0 >= 1 } && (series.max() ?? 0) >= 2, "\(label) chart \(id) has data points: \(series)")
                let labels = (c["labels"] as? [String] ?? []).joined(separator: " ")
                #expect(labels.contains(":"), "\(label) chart \(id) has a time axis: \(labels)")
            } else {
                #expect(c["empty"] as? Bool == true, "\(label) chart \(id) says it has no data")
            }
        }
        let cpuLabels = (charts.first { $0["id"] as? String == "cpu-total" }?["labels"] as? [String] ?? []).joined(separator: " ")
        #expect(cpuLabels.contains("cores"), "CPU axis in cores")
        let memLabels = (charts.first { $0["id"] as? String == "memory" }?["labels"] as? [String] ?? []).joined(separator: " ")
        #expect(memLabels.contains("iB") || memLabels.contains(" B"), "memory axis in bytes")

        // The process table against /api/v2.0/ps now.
        let shown = Set(state["pids"] as? [Int] ?? [])
        let ps = try #require(try get("/api/v2.0/ps\(name)") as? [[String: Any]])
        let now = Set(ps.compactMap { $0["pid"] as? Int })
        #expect(!shown.isEmpty && !shown.isDisjoint(with: now), "\(label) process table")
        if let busyPID { #expect(shown.contains(Int(busyPID)), "\(label) busy process listed") }

        #expect(browser.errors.isEmpty, "\(label) console: \(browser.errors)")
        try browser.screenshot(to: "\(artifacts)/\(label).png")
        let size = (try FileManager.default.attributesOfItem(atPath: "\(artifacts)/\(label).png")[.size] as? Int) ?? 0
        #expect(size > 10_000, "\(label) screenshot")
        print("web page \(label): first render \(state["rendered"] ?? 0) ms after navigation start")
        return state
    }
}

/// Agents hold inotify watches and the test makes a live cgroup: with the other such suites.
extension InotifyUsers {
@Suite(.serialized) struct WebUITests {
    @Test
    func rootAndABusyCgroupInChromium() throws {
        let layout = try CgroupLayout.detect()
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.limitMemory(bytes: 256 << 20)
        try cg.limitCPU(quotaMicroseconds: 50_000)
        try cg.limitPids(100)
        let busy = try cg.run("while :; do :; done")
        let agent = try RunningAgent()
        defer { agent.child.stop() }
        let browser = try HeadlessChromium()
        defer { browser.stop() }
        let root = try WebUIPage.check(agent, browser, "/containers/", label: "root")
        #expect(root["name"] as? String == "/")
        // The busy process is the shell's child or the shell itself (it runs the loop).
        let pids = cg.pids()
        let page = try WebUIPage.check(agent, browser, "/containers\(cg.name)", label: "cgroup",
                                       busyPID: pids.contains(busy.processIdentifier) ? busy.processIdentifier : pids.first)
        #expect(page["name"] as? String == cg.name)
        // The process table sorts by a column on click (and on Enter: the headers are focusable).
        _ = try browser.evaluate("document.querySelectorAll('#ps th')[1].click()")
        let order = try browser.evaluate("[...document.querySelectorAll('#ps tbody tr')].map(r => +r.dataset.pid)") as? [Int] ?? []
        #expect(!order.isEmpty && order == order.sorted(by: >), "sorted by PID, descending: \(order)")
        let figures = page["figures"] as? [String: [String: String]] ?? [:]
        #expect(figures["limits.memory"]?["text"] == "256.0 MiB")
        #expect(figures["limits.quota"]?["text"]?.hasPrefix("0.500 cores") == true)
        // Phone width and dark mode: the same page, no horizontal overflow of the body.
        try browser.emulate(width: 390, height: 844, mobile: true, dark: true)
        _ = try eventually(5) { () -> Bool? in (try browser.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") as? Bool) == true ? true : nil }
        let overflow = try browser.evaluate("document.documentElement.scrollWidth <= innerWidth + 1") as? Bool
        #expect(overflow == true, "no horizontal scrolling at phone width")
        // Redrawn at the new width (text stays legible): the charts' viewBox follows the screen.
        _ = try eventually(5) { () -> Bool? in
            (try browser.evaluate("document.getElementById('cpu-total').viewBox.baseVal.width <= 400") as? Bool) == true ? true : nil
        }
        #expect(try browser.evaluate("document.getElementById('cpu-total').viewBox.baseVal.width <= 400") as? Bool == true)
        let background = try browser.evaluate("getComputedStyle(document.body).backgroundColor") as? String
        #expect(background == "rgb(13, 17, 23)", "dark background: \(background ?? "")")
        try browser.screenshot(to: "\(WebUIPage.artifacts)/cgroup-phone-dark.png")
        // Keyboard: "/" focuses the filter box; typing filters the lists; Escape clears it.
        try browser.emulate(width: 1280, height: 900)
        try browser.navigate("http://127.0.0.1:\(agent.port)/containers/")
        try browser.call("Input.dispatchKeyEvent", ["type": "keyDown", "key": "/", "text": "/"])
        #expect(try browser.evaluate("document.activeElement.id") as? String == "filter")
        let parent = LiveCgroup.parent
        _ = try browser.evaluate("(() => { const f = document.getElementById('filter'); f.value = 'no-such-container-xyz'; f.dispatchEvent(new Event('input')); })()")
        #expect(try browser.evaluate("document.querySelectorAll('ul.links li:not(.hidden) a').length") as? Int == 0)
        _ = try browser.evaluate("(() => { const f = document.getElementById('filter'); f.value = '\(parent)'; f.dispatchEvent(new Event('input')); })()")
        #expect((try browser.evaluate("document.querySelectorAll('ul.links li:not(.hidden) a').length") as? Int ?? 0) >= 1)
        #expect(browser.errors.isEmpty, "\(browser.errors)")
    }

    /// The assets are cached (ETag, 304), the page works under -url_base_prefix and behind htpasswd:
    /// the browser's fetches go to the same origin with its credentials.
    @Test
    func assetsCacheAndThePageWorksUnderAPrefixAndBasicAuth() throws {
        let dir = try TemporaryDirectory()
        let r = try run("/usr/bin/htpasswd", ["-bcB", dir.file("htpasswd"), "alice", "s3cret"])
        try #require(r.status == 0, "\(r.output)")
        let agent = try RunningAgent(["-url_base_prefix=/nm", "-http_auth_file=\(dir.file("htpasswd"))", "-http_auth_realm=nm", "-http_auth_all_endpoints=true"],
                                     ready: { port in (try? LoopbackHTTP.get(port: port, "/nm/healthz"))?.status == 200 })
        defer { agent.child.stop() }
        let auth = "Authorization: Basic \(Data("alice:s3cret".utf8).base64EncodedString())\r\n"
        #expect(try agent.get("/nm/containers/").status == 401)
        let page = try agent.get("/nm/containers/", headers: auth)
        #expect(page.status == 200 && page.body.contains("/nm/static/ui.js?v=\(WebAssets.script.hash)"))
        let js = try agent.get("/nm/static/ui.js", headers: auth)
        #expect(js.status == 200 && js.headers.lowercased().contains("cache-control: private, max-age=31536000"))
        #expect(js.headers.contains(WebAssets.script.etag) && js.headers.lowercased().contains("content-type: text/javascript"))
        let again = try agent.get("/nm/static/ui.js", headers: auth + "If-None-Match: \(WebAssets.script.etag)\r\n")
        #expect(again.status == 304 && again.body.isEmpty)
        #expect(try agent.get("/nm/static/nothing.js", headers: auth).status == 404)
        // Page weight: the HTML shell, the script and the style sheet.
        let weight = page.body.utf8.count + WebAssets.script.bytes.count + WebAssets.css.bytes.count
        #expect(weight < 60_000, "page weight \(weight) B")
        print("web page weight: \(weight) B (html \(page.body.utf8.count), js \(WebAssets.script.bytes.count), css \(WebAssets.css.bytes.count))")

        let browser = try HeadlessChromium()
        defer { browser.stop() }
        try WebUIPage.check(agent, browser, "/containers/", label: "root-prefix-auth",
                            url: "http://alice:s3cret@127.0.0.1:\(agent.port)/nm/containers/", prefix: "/nm", headers: auth)
        #expect(try agent.get("/nm/api/v1.3/machine").status == 401, "the API needs the credentials too: the page's fetches sent them")
    }
}
}

extension InotifyUsers.WebUITests {
    /// htdigest (the browser answers the digest challenge with the URL's credentials, its fetches too)
    /// and bearer tokens (sent by whatever fronts the browser: here the DevTools extra headers).
    @Test func thePageWorksWithDigestAuthAndWithTokens() throws {
        let dir = try TemporaryDirectory()
        var md5 = [UInt8](repeating: 0, count: 16)
        let secret = "dave:private:dig-pass"
        cgf_md5(secret, secret.utf8.count, &md5)
        try "dave:private:\(md5.map { String(format: "%02x", $0) }.joined())\n".write(toFile: dir.file("htdigest"), atomically: true, encoding: .utf8)
        try "tok-\(getpid())-abc,viewer\n".write(toFile: dir.file("tokens"), atomically: true, encoding: .utf8)
        let agent = try RunningAgent(["-http_digest_file=\(dir.file("htdigest"))", "-http_digest_realm=private", "-http_auth_all_endpoints",
                                      "-http_token_file=\(dir.file("tokens"))"])
        defer { agent.child.stop() }
        #expect(try agent.get("/api/v1.3/machine").status == 401)
        let browser = try HeadlessChromium()
        defer { browser.stop() }
        try browser.navigate("http://dave:dig-pass@127.0.0.1:\(agent.port)/containers/")
        let updated = try eventually(30 * TestTiming.slowdown) { () -> Bool? in
            (try browser.evaluate("+document.body.dataset.updates >= 3 && document.querySelectorAll('svg.chart polyline').length > 0") as? Bool) == true ? true : nil
        }
        #expect(updated == true, "digest: the page updated from the API (\(String(describing: try? browser.evaluate("document.getElementById('status').textContent"))))")
        #expect(browser.errors.isEmpty, "digest console: \(browser.errors)")
        try browser.screenshot(to: "\(WebUIPage.artifacts)/root-digest.png")

        let bearer = "Authorization: Bearer tok-\(getpid())-abc\r\n"
        let tokenBrowser = try HeadlessChromium()
        defer { tokenBrowser.stop() }
        try tokenBrowser.call("Network.enable")
        try tokenBrowser.call("Network.setExtraHTTPHeaders", ["headers": ["Authorization": "Bearer tok-\(getpid())-abc"]])
        try WebUIPage.check(agent, tokenBrowser, "/containers/", label: "root-token", headers: bearer)
    }
}

extension RuntimeDaemons {
    /// A real Docker container's page by name, by id and by id prefix (cAdvisor's /docker/ links).
    @Suite(.serialized) struct WebUIDockerTests {
        @Test
        func dockerContainerPageByNameAndID() throws {
            let docker = DockerTests()
            let started = try docker.script("docker-start.sh")
            try #require(started.status == 0, "\(started.output)")
            defer { _ = try? docker.script("docker-stop.sh") }
            let agent = try RunningAgent()
            defer { agent.child.stop() }
            let name = "nm-webui-\(getpid())"
            let id = try docker.docker(["run", "-d", "--name", name, "--network", "none", "--memory", "96m", "--cpus", "0.5",
                                        "--pids-limit", "50", "local/busybox:1", "sh", "-c", "while :; do :; done"])
            defer { _ = try? docker.docker(["rm", "-f", name]) }
            _ = try #require(try eventually(30) { try agent.json("/api/v1.3/docker/\(name)")?["/docker/\(id)"] })
            #expect(try agent.get("/docker/\(name)").status == 200)
            #expect(try agent.get("/docker/no-such-container-\(getpid())").status == 404)
            let browser = try HeadlessChromium()
            defer { browser.stop() }
            let byName = try WebUIPage.check(agent, browser, "/docker/\(name)", label: "docker-by-name")
            #expect(byName["name"] as? String == "/docker/\(id)")
            let figures = byName["figures"] as? [String: [String: String]] ?? [:]
            #expect(figures["limits.memory"]?["text"] == "96.0 MiB")
            #expect(figures["limits.pids"]?["text"] == "50")
            let byID = try WebUIPage.check(agent, browser, "/docker/\(id)", label: "docker-by-id")
            #expect(byID["name"] as? String == "/docker/\(id)")
            try WebUIPage.check(agent, browser, "/docker/\(id.prefix(12))", label: "docker-by-id-prefix")
            // The root page lists it among the Docker containers, linked by id.
            try browser.navigate("http://127.0.0.1:\(agent.port)/containers/")
            let link = try browser.evaluate("(document.querySelector('#docker a[href=\"/docker/\(id)\"]') || {}).textContent") as? String
            #expect(link == name)
            try browser.navigate("http://127.0.0.1:\(agent.port)/docker/")
            #expect(try browser.evaluate("document.querySelector('#docker a[href=\"/docker/\(id)\"]').textContent") as? String == name)
            #expect(browser.errors.isEmpty, "\(browser.errors)")
        }
    }
}

/// The page's server side through the router on a manager that is not started (its store filled by
/// hand): links to Docker containers and Kubernetes pods, /docker/ resolution, escaping, the assets'
/// caching, and the root page for thousands of containers.
@Suite struct WebUIRouterTests {
    let manager: ContainerManager
    let router: APIRouter
    static let id = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa00112233445566778899"

    init() throws {
        manager = try ContainerManager(configuration: ManagerConfiguration())
        router = APIRouter(manager: manager, urlBasePrefix: "/nm")
        let store = manager.store
        for name in ["/", "/docker", "/docker/\(Self.id)", "/kubepods", "/kubepods/pod1", "/kubepods/pod1/app", "/kubepods/pod1/pause"] {
            store.add(name, spec: CgroupSpec(), creationTimeNanos: 0)
        }
        var docker = ContainerMetadata()
        docker.runtime = "docker"
        docker.namespace = "docker"
        docker.aliases = ["web<script>", Self.id]
        docker.image = "local/busybox:1"
        store.updateMetadata("/docker/\(Self.id)", docker)
        var app = ContainerMetadata()
        app.runtime = "containerd"
        app.labels = [WebUI.kubernetesNamespace: "shop", WebUI.kubernetesPod: "cart-7d9", WebUI.kubernetesContainer: "app"]
        store.updateMetadata("/kubepods/pod1/app", app)
        var pause = app
        pause.labels[WebUI.kubernetesContainer] = "POD"
        store.updateMetadata("/kubepods/pod1/pause", pause)
    }

    func get(_ uri: String, headers: [(String, String)] = []) -> HTTPResponse { router.handle(HTTPRequest(uri: "/nm" + uri, headers: headers)) }

    @Test func linksResolutionAndEscaping() {
        let root = get("/containers/").bodyText
        #expect(root.contains("href=\"/nm/docker/\(Self.id)\">web&lt;script&gt;</a>"), "Docker containers linked by id, names escaped")
        #expect(!root.contains("web<script>"))
        #expect(root.contains(">shop/cart-7d9/app</a>") && !root.contains("cart-7d9/POD"), "pods as namespace/pod/container, no sandbox")
        #expect(root.contains("data-prefix=\"/nm\"") && root.contains("/nm/static/ui.css?v=\(WebAssets.css.hash)"))
        for key in ["web<script>", Self.id, String(Self.id.prefix(12)), String(Self.id.prefix(4))] {
            let page = get("/docker/" + key.replacingOccurrences(of: "<", with: "%3C").replacingOccurrences(of: ">", with: "%3E"))
            #expect(page.status == 200 && page.bodyText.contains("data-name=\"/docker/\(Self.id)\""), "/docker/\(key)")
        }
        #expect(get("/docker/docker/\(Self.id)").status == 200, "a cgroup path still works")
        #expect(get("/docker/abc").status == 404 && get("/docker/nothing-here").status == 404)
        #expect(get("/docker/").bodyText.contains("href=\"/nm/docker/\(Self.id)\""))
        #expect(get("/containers/kubepods/pod1").bodyText.contains("href=\"/nm/containers/kubepods/pod1/app\""))
    }

    @Test func assetsAreCachedByHash() {
        let js = get("/static/ui.js")
        #expect(js.status == 200 && js.body == WebAssets.script.bytes && js.contentType.hasPrefix("text/javascript"))
        #expect(js.headers.contains { $0 == ("ETag", WebAssets.script.etag) })
        #expect(get("/static/ui.js", headers: [("If-None-Match", "\"x\", \(WebAssets.script.etag)")]).status == 304)
        #expect(get("/static/ui.css", headers: [("If-None-Match", WebAssets.script.etag)]).status == 200)
        #expect(get("/static/../ui.js").status == 404 && get("/static/").status == 404)
        #expect(WebAssets.script.hash.count == 16 && WebAssets.script.hash != WebAssets.css.hash)
    }

    @Test func thousandsOfContainers() {
        for i in 0..<3000 {
            let name = "/docker/\(String(format: "%064x", i))"
            manager.store.add(name, spec: CgroupSpec(), creationTimeNanos: 0)
            var m = ContainerMetadata()
            m.runtime = "docker"
            m.aliases = ["c\(i)", String(name.dropFirst(8))]
            manager.store.updateMetadata(name, m)
        }
        let start = DispatchTime.now().uptimeNanoseconds
        let root = get("/containers/")
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        #expect(root.status == 200 && root.bodyText.contains(">c2999</a>"))
        print("web page: root with 3000 Docker containers: \(root.body.count) B in \(ms) ms")
    }
}
