import Foundation
import Testing
@testable import NodeMetrics

/// cAdvisor's command lines start the agent (issue 15 part 4): every flag of the spec
/// (/work/shared/spec/cadvisor-flags.md, a copy of which the test reads when present) with its
/// default, the example DaemonSets' argument lists, and one warning per flag whose feature is not built.
@Suite struct CAdvisorFlagTests {
    let binary = Package.root + "/.build/debug/node-metrics"

    /// Every cAdvisor flag (v0.36 and current) and klog flag, with cAdvisor's default; nil: a Go boolean
    /// written bare (`-docker_only`, meaning true) in the second run.
    static let defaults: [String: String] = [
        "listen_ip": "", "port": "8080", "url_base_prefix": "", "prometheus_endpoint": "/metrics",
        "http_auth_file": "", "http_auth_realm": "localhost", "http_digest_file": "", "http_digest_realm": "localhost",
        "profiling": "false", "max_procs": "0", "version": "false",
        "housekeeping_interval": "1s", "max_housekeeping_interval": "60s", "allow_dynamic_housekeeping": "true",
        "global_housekeeping_interval": "1m", "update_machine_info_interval": "5m", "initial_splay_factor": "1.0",
        "jitter_factor": "1.0", "storage_duration": "2m", "application_metrics_count_limit": "100",
        "event_storage_age_limit": "default=24h", "event_storage_event_limit": "default=100000",
        "enable_load_reader": "false", "log_cadvisor_usage": "false",
        "docker_only": "false", "raw_cgroup_prefix_whitelist": "", "disable_root_cgroup_stats": "false",
        "docker": "unix:///var/run/docker.sock", "docker-tls": "false", "docker-tls-cert": "cert.pem",
        "docker-tls-key": "key.pem", "docker-tls-ca": "ca.pem", "docker_root": "/var/lib/docker",
        "containerd": "/run/containerd/containerd.sock", "containerd-namespace": "k8s.io", "crio_client_timeout": "0s",
        "podman": "unix:///var/run/podman/podman.sock", "env_metadata_whitelist": "", "docker_env_metadata_whitelist": "",
        "containerd_env_metadata_whitelist": "", "container_hints": "/etc/cadvisor/container_hints.json",
        "mesos_agent": "127.0.0.1:5051", "mesos_agent_timeout": "10s",
        "machine_id_file": "/etc/machine-id,/var/lib/dbus/machine-id", "boot_id_file": "/proc/sys/kernel/random/boot_id",
        "disable_metrics": "advtcp,cpu_topology,cpuset,hugetlb,memory_numa,process,referenced_memory,resctrl,sched,tcp,udp",
        "enable_metrics": "", "store_container_labels": "true", "whitelisted_container_labels": "",
        "perf_events_config": "", "resctrl_interval": "0", "referenced_reset_interval": "0",
        "collector_cert": "", "collector_key": "",
        "storage_driver": "", "storage_driver_user": "root", "storage_driver_password": "root",
        "storage_driver_host": "localhost:8086", "storage_driver_db": "cadvisor", "storage_driver_table": "stats",
        "storage_driver_secure": "false", "storage_driver_buffer_duration": "60s",
        "storage_driver_influxdb_retention_policy": "", "storage_driver_es_host": "http://localhost:9200",
        "storage_driver_es_index": "cadvisor", "storage_driver_es_type": "stats", "storage_driver_es_enable_sniffer": "false",
        "storage_driver_kafka_broker_list": "localhost:9092", "storage_driver_kafka_topic": "stats",
        "storage_driver_kafka_ssl_cert": "", "storage_driver_kafka_ssl_key": "", "storage_driver_kafka_ssl_ca": "",
        "storage_driver_kafka_ssl_verify": "true", "bq_id": "", "bq_secret": "notasecret", "bq_project_id": "",
        "bq_account": "", "bq_credentials_file": "",
        // klog
        "v": "2", "logtostderr": "true", "alsologtostderr": "false", "log_dir": "", "log_file": "", "log_file_max_size": "1800",
        "vmodule": "", "stderrthreshold": "2", "log_backtrace_at": "", "skip_headers": "false", "skip_log_headers": "false",
        "one_output": "false", "add_dir_header": "false",
    ]

    /// The flag names of the spec's section 1 (tables and the storage driver paragraph).
    static func specFlags() throws -> Set<String>? {
        let path = "/work/shared/spec/cadvisor-flags.md"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              let start = text.range(of: "## 1. Flags with defaults"), let end = text.range(of: "## 2.") else { return nil }
        var names = Set<String>()
        let section = text[start.upperBound..<end.lowerBound]
        let token = /`([a-z][a-z0-9_\-]*)((?:\|[a-z]+)*)`/
        /// `storage_driver_kafka_ssl_cert|key|ca`: three flags.
        func expand(_ m: Regex<(Substring, Substring, Substring)>.Match) -> [String] {
            let alternatives = m.2.split(separator: "|")
            guard !alternatives.isEmpty, let cut = m.1.lastIndex(of: "_") else { return [String(m.1)] }
            let stem = String(m.1[...cut])
            return [String(m.1)] + alternatives.map { (a: Substring) -> String in stem + String(a) }
        }
        for line in section.split(separator: "\n") {
            if line.hasPrefix("| `") {
                let cell = line.dropFirst().prefix { $0 != "|" }
                for m in cell.matches(of: token) { names.formUnion(expand(m)) }
            } else {
                for m in line.matches(of: token) where m.1.hasPrefix("storage_driver") || m.1.hasPrefix("bq_") {
                    names.formUnion(expand(m))
                }
            }
        }
        return names
    }

    @Test func theDefaultsCoverEveryFlagOfTheSpec() throws {
        let spec = try #require(try Self.specFlags(), "the spec is readable")
        #expect(spec.count >= 76, "\(spec.count) flags (the spec counts 76 at HEAD)")
        #expect(spec.subtracting(Self.defaults.keys).isEmpty, "flags of the spec without a default here: \(spec.subtracting(Self.defaults.keys).sorted())")
    }

    @Test func everyFlagParsesWithItsDefault() throws {
        let args = Self.defaults.sorted { $0.key < $1.key }.filter { $0.key != "version" }.map { "-\($0.key)=\($0.value)" }
        let r = try run(binary, args + ["-version"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("node-metrics version \(AgentVersion.current) (\(AgentVersion.revision))"))
        // Go style: every boolean bare, `--name value` for the others.
        let booleans = Self.defaults.filter { ["true", "false"].contains($0.value) }.keys.filter { $0 != "version" }
        var bare = booleans.sorted().map { "-\($0)" }
        for (k, v) in Self.defaults.sorted(by: { $0.key < $1.key }) where !booleans.contains(k) && k != "version" && !v.isEmpty {
            bare += ["--\(k)", v]
        }
        let r2 = try run(binary, bare + ["-version"])
        #expect(r2.status == 0, "\(r2.output)")
    }

    /// The agent started with every default: no warning (nothing not built is asked for).
    @Test func defaultsStartWithoutWarnings() throws {
        let skip: Set<String> = ["version", "port", "listen_ip", "housekeeping_interval", "allow_dynamic_housekeeping",
                                 "docker", "podman", "containerd"]
        let args = Self.defaults.sorted { $0.key < $1.key }.filter { !skip.contains($0.key) }.map { "-\($0.key)=\($0.value)" }
        let agent = try RunningAgent(args + ["-docker=", "-podman=", "-containerd="])
        agent.child.stop()
        let warnings = agent.child.log.split(separator: "\n").filter { $0.contains("level=warning") && $0.contains("flag") }
        #expect(warnings.isEmpty, "\(warnings)")
    }

    /// The argument lists of cAdvisor's example DaemonSets (the image's entrypoint adds -logtostderr).
    @Test(arguments: [
        // deploy/kubernetes/overlays/examples/cadvisor-args.yaml of the v0.3x releases after v0.36
        // (accelerator still a kind), and a longer disable list of the same era
        ["-logtostderr", "--housekeeping_interval=10s", "--max_housekeeping_interval=15s",
         "--event_storage_event_limit=default=0", "--event_storage_age_limit=default=0",
         "--disable_metrics=percpu,process,sched,tcp,udp,accelerator", "--docker_only"],
        ["-logtostderr", "--housekeeping_interval=10s", "--max_housekeeping_interval=15s",
         "--disable_metrics=percpu,sched,tcp,udp,disk,diskIO,accelerator,hugetlb,referenced_memory,cpu_topology,resctrl",
         "--docker_only"],
        // current cadvisor-args.yaml (the kubelet's settings)
        ["-logtostderr", "--housekeeping_interval=10s", "--max_housekeeping_interval=15s",
         "--event_storage_event_limit=default=0", "--event_storage_age_limit=default=0",
         "--enable_metrics=app,cpu,disk,diskIO,memory,network,process", "--docker_only", "--store_container_labels=false",
         "--whitelisted_container_labels=io.kubernetes.container.name, io.kubernetes.pod.name,io.kubernetes.pod.namespace"],
        // v0.36's cadvisor-args.yaml (also the community chart's additionalArgs), and the perf example
        ["-logtostderr", "--housekeeping_interval=10s", "--max_housekeeping_interval=15s",
         "--event_storage_event_limit=default=0", "--event_storage_age_limit=default=0",
         "--disable_metrics=percpu,process,sched,tcp,udp", "--docker_only"],
        ["-logtostderr", "--perf_events_config=/etc/config/perf-non-hardware.json"],
    ])
    func exampleDaemonSetArgumentsStart(_ args: [String]) throws {
        let agent = try RunningAgent(args + ["-docker=", "-podman="])
        defer { agent.child.stop() }
        let metrics = try eventually {
            let r = try agent.get("/metrics")
            return r.status == 200 && r.body.contains("container_cpu_usage_seconds_total{") ? r : nil
        }
        #expect(metrics != nil, "the root container's figures served")
        agent.child.stop()
        let log = agent.child.log
        #expect(!log.contains("level=error"), "\(log)")
        if args.contains(where: { $0.contains("enable_metrics=app") }) {
            #expect(log.contains("metric kind app is enabled but has no collector"), "\(log)")
        }
        if args.contains(where: { $0.hasPrefix("--perf_events_config") }) { #expect(log.contains("-perf_events_config")) }
    }

    /// Each flag whose feature is not built: one warning naming it; kinds without a collector likewise.
    @Test func unbuiltFeaturesWarnOnceNamingTheFlag() throws {
        let agent = try RunningAgent(["-docker=", "-podman=", "-mesos_agent=10.0.0.1:5051", "-storage_driver_kafka_topic=x",
                                      "-log_dir=/tmp", "-alsologtostderr", "-docker-tls", "-skip_headers",
                                      "-enable_metrics=cpu,memory,accelerator,resctrl"])
        agent.child.stop()
        let warnings = agent.child.log.split(separator: "\n").filter { $0.contains("level=warning") }
        for flag in ["-mesos_agent", "-storage_driver_kafka_topic", "-log_dir", "-skip_headers", "-docker-tls"] {
            #expect(warnings.filter { $0.contains("flag \(flag)") }.count == 1, "\(flag): \(warnings)")
        }
        #expect(!warnings.contains { $0.contains("alsologtostderr") }, "logs do go to standard error")
        #expect(warnings.contains { $0.contains("metric kind accelerator") && $0.contains("GPU") })
        #expect(warnings.contains { $0.contains("metric kind resctrl") })
    }

    @Test func dockerEndpoints() throws {
        #expect(try HTTPEndpoint.parse("unix:///var/run/docker.sock") == .unix(path: "/var/run/docker.sock"))
        #expect(try HTTPEndpoint.parse("/run/docker.sock") == .unix(path: "/run/docker.sock"))
        #expect(try HTTPEndpoint.parse("tcp://127.0.0.1:2376") == .tcp(host: "127.0.0.1", port: 2376, tls: nil))
        #expect(try HTTPEndpoint.parse("tcp://[::1]:2375/") == .tcp(host: "::1", port: 2375, tls: nil))
        for bad in ["tcp://host", "tcp://:2375", "tcp://host:0", "tcp://host:http", "tcp://host:70000"] {
            #expect(throws: HTTPEndpoint.Invalid.self, "\(bad)") { try HTTPEndpoint.parse(bad) }
        }
        for (args, mention) in [(["-docker=tcp://127.0.0.1"], "-docker"),
                                (["-docker=tcp://127.0.0.1:2376", "-docker-tls", "-docker-tls-cert=/nonexistent.pem"], "/nonexistent.pem")] {
            let r = try run(binary, args)
            #expect(r.status != 0 && r.output.contains(mention), "\(args): \(r.output)")
        }
    }
}
