import Foundation
import Testing
@testable import NodeMetrics

@Suite struct PrometheusTextTests {
    func format(_ v: Double) -> String {
        var w = PrometheusTextWriter()
        w.appendFloat(v)
        return w.string
    }

    /// Expected strings are Go's `strconv.FormatFloat(v, 'g', -1, 64)`, which client_golang writes.
    @Test func numbersAreFormattedAsGoDoes() {
        let cases: [(Double, String)] = [
            (0, "0"), (1, "1"), (-1, "-1"), (10, "10"), (100000, "100000"), (999999, "999999"),
            (1e6, "1e+06"), (1234567, "1.234567e+06"), (9.1162624e8, "9.1162624e+08"),
            (2.5276510208e10, "2.5276510208e+10"), (1795358854, "1.795358854e+09"),
            (0.5, "0.5"), (0.0001, "0.0001"), (0.00001, "1e-05"), (0.000123, "0.000123"), (0.0000123, "1.23e-05"),
            (123.456, "123.456"), (1517.463367735, "1517.463367735"), (949.93, "949.93"), (0.05, "0.05"),
            (1.79535885176e9, "1.79535885176e+09"), (Double(UInt64.max), "1.8446744073709552e+19"),
            (1e21, "1e+21"), (123456789012345680, "1.2345678901234568e+17"), (Double.leastNonzeroMagnitude, "5e-324"),
            (.nan, "NaN"), (.infinity, "+Inf"), (-.infinity, "-Inf"), (-0.0, "-0"),
        ]
        for (v, want) in cases { #expect(format(v) == want, "\(v)") }
    }

    @Test func labelValuesAndHelpAreEscaped() {
        var w = PrometheusTextWriter()
        w.header("x", help: "a \\ b\nc", type: .counter)
        w.sample("x", labels: [("l", "q\"uo\\te\nnl")], value: 1, timestampMillis: 1234)
        #expect(w.string == "# HELP x a \\\\ b\\nc\n# TYPE x counter\nx{l=\"q\\\"uo\\\\te\\nnl\"} 1 1234\n")
    }

    @Test func extraLabelsInterleaveInNameOrder() {
        let schema = LabelSchema(names: ["name", "id", "image", "container_label_a"])
        #expect(schema.names == ["container_label_a", "id", "image", "name"])
        // cpu sorts between container_label_a and id; operation after name; device and major before id / name.
        #expect(schema.plan(extra: ["cpu"]) == [0, -1, 1, 2, 3])
        #expect(schema.plan(extra: ["device", "major", "minor", "operation"]) == [0, -1, 1, 2, -2, -3, 3, -4])
    }
}

@Suite struct LabelSelectorTests {
    @Test func kubernetesSelectorSyntax() throws {
        let s = try LabelSelector(parsing: "app=web, tier!=cache,env in (prod, staging),!canary,team,x==y,z notin (a)")
        #expect(s.requirements.count == 7)
        let good = ["app": "web", "env": "prod", "team": "a", "x": "y", "z": "b"]
        #expect(s.matches(good))
        #expect(!s.matches(good.merging(["tier": "cache"]) { $1 }))
        #expect(!s.matches(good.merging(["canary": "1"]) { $1 }))
        #expect(!s.matches(good.merging(["env": "dev"]) { $1 }))
        #expect(!s.matches(good.filter { $0.key != "team" }))
        #expect(!s.matches(good.merging(["z": "a"]) { $1 }))
        #expect(try LabelSelector(parsing: "").matches([:]))
        #expect(try LabelSelector(parsing: "a!=b").matches([:]), "!= matches a missing key, as Kubernetes")
    }

    @Test func badSelectorsAreErrorsNamingThem() {
        for bad in ["a in (b", "a in b)", "a foo (b)", "=b", "a,,b", "a b=c"] {
            #expect(throws: LabelSelector.ParseError.self, "\(bad)") { try LabelSelector(parsing: bad) }
        }
    }
}

extension InotifyUsers {
    /// /metrics from a real manager on this host's cgroups.
    @Suite struct ExporterTests {
        let manager: ContainerManager

        init() throws {
            var c = ManagerConfiguration()
            c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
            c.metricKinds = .all
            manager = try ContainerManager(configuration: c)
        }

        func waitFor(_ name: String) {
            let deadline = Date().addingTimeInterval(10 * TestTiming.slowdown)
            while (manager.store.snapshot(name)?.samples.count ?? 0) < 1 && Date() < deadline { usleep(50_000) }
        }

        /// Series lines of a family, keyed by their label text.
        func series(_ text: String, _ family: String) -> [String] {
            text.split(separator: "\n").filter { $0.hasPrefix(family + "{") || $0.hasPrefix(family + " ") }.map(String.init)
        }

        @Test func cAdvisorFamiliesLabelsAndTimestamps() throws {
            let layout = try CgroupLayout.detect()
            let cg = try LiveCgroup(layout: layout)
            defer { cg.destroy() }
            try cg.limitCPU(quotaMicroseconds: 50000)
            manager.start()
            defer { manager.stop() }
            waitFor(cg.name)
            waitFor("/")
            var meta = ContainerMetadata()
            meta.aliases = ["web-1", "abc"]
            meta.image = "nginx:1.27"
            meta.labels = ["io.kubernetes.pod.name": "web", "odd-label.x": "v\"1"]
            meta.env = ["GREETING": "hi"]
            meta.deriveKubernetesIdentity()
            manager.store.updateMetadata(cg.name, meta)

            let text = String(decoding: PrometheusExporter(manager: manager).scrape(), as: UTF8.self)
            let id = cg.name
            // The union of label names: the root gets the container's label names with "".
            let root = try #require(series(text, "container_memory_usage_bytes").first { $0.contains("id=\"/\"") })
            #expect(root.hasPrefix("container_memory_usage_bytes{container_env_GREETING=\"\",container_label_io_kubernetes_pod_name=\"\",container_label_odd_label_x=\"\",id=\"/\",image=\"\",name=\"\"} "))
            let mine = try #require(series(text, "container_memory_usage_bytes").first { $0.contains("id=\"\(id)\"") })
            #expect(mine.contains("container_env_GREETING=\"hi\",container_label_io_kubernetes_pod_name=\"web\",container_label_odd_label_x=\"v\\\"1\""))
            #expect(mine.contains("image=\"nginx:1.27\",name=\"web-1\"}"))
            // Stats series carry the sample's timestamp in ms; spec series none.
            let parts = mine.split(separator: " ")
            #expect(parts.count == 3)
            let stamp = try #require(Int64(parts[2]))
            #expect(abs(Double(stamp) / 1000 - Date().timeIntervalSince1970) < 60)
            let quota = try #require(series(text, "container_spec_cpu_quota").first { $0.contains(id) })
            #expect(quota.hasSuffix(" 50000"), "no timestamp on spec series: \(quota)")
            // cfs families only for containers with a quota.
            #expect(series(text, "container_cpu_cfs_periods_total").allSatisfy { !$0.contains("id=\"/\"") })
            #expect(series(text, "container_cpu_cfs_periods_total").contains { $0.contains(id) })
            // Per-CPU usage for the root with v1 controllers (percpu kind on); v2 has no per-CPU file,
            // so only cpu="total" there. The machine collector with its labels.
            let rootCPU = series(text, "container_cpu_usage_seconds_total").filter { $0.contains("id=\"/\"") }
            #expect(rootCPU.contains { $0.contains("cpu=\"cpu00\"") } == HostCgroups.hasV1Controllers, "\(rootCPU)")
            #expect(rootCPU.contains { $0.contains("cpu=\"total\"") } == !HostCgroups.hasV1Controllers, "\(rootCPU)")
            #expect(Exposition.duplicateSeries(text).isEmpty, "duplicate series: \(Exposition.duplicateSeries(text).prefix(5))")
            let cores = try #require(series(text, "machine_cpu_cores").first)
            #expect(cores.contains("boot_id=") && cores.contains("machine_id=") && cores.contains("system_uuid="))
            #expect(cores.split(separator: " ")[1] == "\(ProcessInfo.processInfo.activeProcessorCount)")
            #expect(text.contains("\ncontainer_scrape_error 0\n") && text.contains("\nmachine_scrape_error 0\n"))
            #expect(text.contains("cadvisor_version_info{cadvisorRevision=\"\(AgentVersion.revision)\",cadvisorVersion=\"\(AgentVersion.current)\""))
            for family in ["process_cpu_seconds_total", "process_resident_memory_bytes", "process_open_fds", "process_start_time_seconds",
                           "container_tasks_state", "container_oom_events_total", "container_threads", "container_network_tcp_usage_total",
                           "container_last_seen", "container_start_time_seconds", "machine_thread_siblings_count"] {
                #expect(text.contains("\n# TYPE \(family) "), "\(family)")
            }
            // Every family's header appears once and families come sorted by name.
            let families = text.split(separator: "\n").filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
            #expect(Set(families).count == families.count)
            #expect(families == families.sorted())
        }

        @Test func kubernetesModeFiltersAndNoTimestamps() throws {
            let layout = try CgroupLayout.detect()
            let a = try LiveCgroup(layout: layout), b = try LiveCgroup(layout: layout)
            defer { a.destroy(); b.destroy() }
            manager.start()
            defer { manager.stop() }
            waitFor(a.name)
            waitFor(b.name)
            for (cg, ns, app) in [(a, "prod", "web"), (b, "dev", "db")] {
                var m = ContainerMetadata()
                m.labels = [ContainerMetadata.podNameLabel: "pod-\(app)", ContainerMetadata.podNamespaceLabel: ns,
                            ContainerMetadata.containerNameLabel: app, "app": app]
                m.deriveKubernetesIdentity()
                manager.store.updateMetadata(cg.name, m)
            }
            var config = MetricsConfiguration()
            config.labelMode = .kubernetes
            config.timestamps = false
            let exporter = PrometheusExporter(manager: manager, configuration: config)
            let all = String(decoding: exporter.scrape(), as: UTF8.self)
            let web = try #require(series(all, "container_memory_working_set_bytes").first { $0.contains(a.name) })
            #expect(web.hasPrefix("container_memory_working_set_bytes{container=\"web\",id=\"\(a.name)\",image=\"\",name=\"\",namespace=\"prod\",pod=\"pod-web\"} "))
            #expect(web.split(separator: " ").count == 2, "no timestamp")
            #expect(!all.contains("container_label_"))
            let prod = String(decoding: exporter.scrape(filter: try MetricsFilter(namespaces: "prod", selector: "")), as: UTF8.self)
            #expect(prod.contains(a.name) && !prod.contains(b.name) && !prod.contains("id=\"/\""))
            #expect(prod.contains("machine_memory_bytes"), "machine metrics are never filtered")
            let db = String(decoding: exporter.scrape(filter: try MetricsFilter(namespaces: "", selector: "app in (db)")), as: UTF8.self)
            #expect(db.contains(b.name) && !db.contains(a.name))
            // Through the router: bad selectors are 400.
            let router = APIRouter(manager: manager, exporter: exporter)
            #expect(router.handle(HTTPRequest(uri: "/metrics?selector=a%20in%20(b")).status == 400)
            #expect(router.handle(HTTPRequest(uri: "/metrics?namespace=dev")).bodyText.contains(b.name))
        }

        @Test func disabledKindsAreNotExported() throws {
            var c = ManagerConfiguration()
            c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
            c.metricKinds = MetricKinds(enabled: [.cpu])
            let m = try ContainerManager(configuration: c)
            m.start()
            defer { m.stop() }
            let deadline = Date().addingTimeInterval(10 * TestTiming.slowdown)
            while m.store.latest("/") == nil && Date() < deadline { usleep(50_000) }
            let text = String(decoding: PrometheusExporter(manager: m).scrape(), as: UTF8.self)
            #expect(text.contains("container_cpu_usage_seconds_total{cpu=\"total\""), "no percpu kind: total")
            #expect(!text.contains("container_memory_") && !text.contains("container_network_") && !text.contains("machine_cpu_cache"))
        }
    }
}
