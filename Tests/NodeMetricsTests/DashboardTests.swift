import Foundation
import Testing
@testable import NodeMetrics

extension RuntimeDaemons {
    /// The chart's Grafana dashboard against the real thing: a real Prometheus scrapes the real agent
    /// (the kubelet's labels, as the chart runs it with the dashboard on) on a host with a real
    /// dockerd running a container labelled as the kubelet labels a pod's (CPU- and memory-limited, so
    /// throttling and limit ratios exist; eth0 in its own network namespace). Every expression of every panel and variable must be
    /// accepted by promtool (`promtool query instant` against that Prometheus) and return data.
    @Suite(.serialized) struct PrometheusDashboardTests {
        let state = "/tmp/node-metrics-dashboard-test-\(getpid())"

        /// The dashboard's expressions with Grafana's variables as "All" and a 20 s rate window
        /// (Prometheus scrapes every second here).
        static func expressions() throws -> [(title: String, expr: String)] {
            let path = Package.root + "/charts/node-metrics/files/dashboard.json"
            let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
            var out: [(String, String)] = []
            for panel in dashboard["panels"] as? [[String: Any]] ?? [] {
                for target in panel["targets"] as? [[String: Any]] ?? [] {
                    if let expr = target["expr"] as? String { out.append((panel["title"] as? String ?? "?", expr)) }
                }
            }
            for variable in (dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]] ?? [] {
                // label_values(<selector>, <label>): the selector must find series.
                guard let query = (variable["query"] as? [String: Any])?["query"] as? String,
                      query.hasPrefix("label_values("), let comma = query.lastIndex(of: ",") else { continue }
                out.append(("variable " + (variable["name"] as? String ?? "?"),
                            String(query[query.index(query.startIndex, offsetBy: "label_values(".count)..<comma])))
            }
            return out.map { title, expr in
                var e = expr
                for (name, value) in [("$__rate_interval", "20s"), ("$instance", ".*"), ("$namespace", ".*"), ("$pod", ".*")] {
                    e = e.replacingOccurrences(of: name, with: value)
                }
                return (title, e)
            }
        }

        @Test func everyDashboardExpressionParsesAndReturnsData() throws {
            let expressions = try Self.expressions()
            #expect(expressions.count >= 20)
            let started = try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/docker-start.sh"])
            try #require(started.status == 0, "\(started.output)")
            defer { _ = try? run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/docker-stop.sh"]) }
            let agent = try RunningAgent(["-prometheus_labels=kubernetes"])
            defer { agent.child.stop() }
            // A pod as the kubelet lays it out with Docker: a sandbox holding the network namespace (the
            // pod's network series are the sandbox's) and an app container sharing it.
            let name = "nm-dashboard-\(getpid())", sandbox = "nm-dashboard-pod-\(getpid())"
            let podLabels = ["--label", "io.kubernetes.pod.name=web-1", "--label", "io.kubernetes.pod.namespace=shop",
                             "--label", "io.kubernetes.pod.uid=\(UUID().uuidString.lowercased())"]
            let createSandbox = try run("/usr/bin/docker", ["run", "-d", "--name", sandbox, "--network", "none"] + podLabels + [
                "--label", "io.kubernetes.docker.type=podsandbox", "--label", "io.kubernetes.container.name=POD",
                "local/busybox:1", "sleep", "3600"])
            try #require(createSandbox.status == 0, "\(createSandbox.output)")
            defer { _ = try? run("/usr/bin/docker", ["rm", "-f", sandbox]) }
            let create = try run("/usr/bin/docker", [
                "run", "-d", "--name", name, "--network", "container:\(sandbox)", "--cpus", "0.2", "--memory", "64m"] + podLabels + [
                "--label", "io.kubernetes.docker.type=container", "--label", "io.kubernetes.container.name=app",
                "local/busybox:1", "sh", "-c", "head -c 2000000 /dev/zero > /layer; while :; do :; done"])
            try #require(create.status == 0, "\(create.output)")
            defer { _ = try? run("/usr/bin/docker", ["rm", "-f", name]) }
            // The pod's network as a CNI plugin lays it out: a veth pair, eth0 inside the pod's namespace
            // (dockerd here runs without a bridge). It goes away with the sandbox's namespace.
            let pid = try run("/usr/bin/docker", ["inspect", "-f", "{{.State.Pid}}", sandbox]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            let hostSide = "nmdash\(getpid() % 100_000)"
            for command in [["/sbin/ip", "link", "add", hostSide, "type", "veth", "peer", "name", "eth0", "netns", pid],
                            ["/sbin/ip", "link", "set", hostSide, "up"],
                            ["/usr/bin/nsenter", "-t", pid, "-n", "/sbin/ip", "link", "set", "eth0", "up"]] {
                let r = try run(command[0], Array(command.dropFirst()))
                try #require(r.status == 0, "\(command.joined(separator: " ")): \(r.output)")
            }
            defer { _ = try? run("/sbin/ip", ["link", "del", hostSide]) }
            let prometheus = try RunningPrometheus(scrapeConfigs: """
                  - job_name: node-metrics
                    static_configs:
                      - targets: ['127.0.0.1:\(agent.port)']
                """)
            // Rates need two scrapes of a container that has run a while; the writable layer is walked off the sampling path.
            let promtool = "http://127.0.0.1:\(prometheus.port)"
            var missing: [String] = []
            let deadline = Date().addingTimeInterval(90)
            repeat {
                usleep(2_000_000)
                missing = []
                for (title, expr) in expressions {
                    let r = try run("/usr/bin/promtool", ["query", "instant", promtool, expr])
                    if r.status != 0 || r.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                        missing.append("\(title): \(expr) -> \(r.status) \(r.output)")
                    }
                }
            } while !missing.isEmpty && Date() < deadline
            #expect(missing.isEmpty, "\(missing.joined(separator: "\n"))")
            // The pod's labels reached the series the pod panels group by.
            let pods = try prometheus.query("count by (namespace, pod, container) (container_cpu_usage_seconds_total{pod=\"web-1\"})")
            #expect((pods.first?["metric"] as? [String: String])?["namespace"] == "shop", "\(pods)")
            // A query promtool refuses is reported (the check above can fail).
            let bad = try run("/usr/bin/promtool", ["query", "instant", promtool, "sum by (pod (up)"])
            #expect(bad.status != 0)
        }
    }
}
