import Foundation
import Testing
@testable import NodeMetrics

/// A real containerd (scripts/runtimes/containerd-start.sh) running containers the way the kubelet
/// lays them out, and the real agent asking it over gRPC.
extension RuntimeDaemons {
@Suite(.serialized) struct ContainerdTests {
    let state = "/tmp/node-metrics-containerd-test-\(getpid())"

    func script(_ name: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/\(name)"])
    }

    @discardableResult
    func ctr(_ args: [String]) throws -> String {
        let r = try run("/usr/bin/ctr", ["-n", "k8s.io"] + args)
        if r.status != 0 { throw TestFailure("ctr \(args.joined(separator: " ")): \(r.output)") }
        return r.output
    }

    static func randomID() -> String { (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }

    @Test func kubernetesContainersGetPodIdentityLabelsImageAndLimits() throws {
        let started = try script("containerd-start.sh")
        try #require(started.status == 0, "\(started.output)")
        let uid = UUID().uuidString.lowercased()
        let podCgroup = "/kubepods/burstable/pod\(uid)"
        defer {
            _ = try? script("containerd-stop.sh")
            // runc removes the containers' cgroups; the pod's and its parents, in every hierarchy runc
            // used, are the test's to remove (rmdir: only empty ones).
            let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
            for h in hierarchies {
                for dir in [podCgroup, "/kubepods/burstable", "/kubepods", "/k8s.io"] { rmdir("/sys/fs/cgroup/\(h)\(dir)") }
            }
        }
        let agent = try RunningAgent(["-env_metadata_whitelist=FOO", "-docker="])
        defer { agent.child.stop() }

        // A pod as the kubelet lays it out with the cgroupfs driver: a sandbox and an app container
        // under /kubepods/burstable/pod<uid>/, with the CRI labels.
        let sandbox = Self.randomID(), app = Self.randomID()
        let podLabels = ["--label", "io.kubernetes.pod.name=demo-pod", "--label", "io.kubernetes.pod.namespace=shop",
                         "--label", "io.kubernetes.pod.uid=\(uid)"]
        try ctr(["run", "-d", "--cgroup", "\(podCgroup)/\(sandbox)", "--label", "io.cri-containerd.kind=sandbox"] + podLabels
                + ["docker.io/local/busybox:1", sandbox, "/bin/sleep", "300"])
        try ctr(["run", "-d", "--cgroup", "\(podCgroup)/\(app)", "--memory-limit", "67108864", "--cpu-quota", "50000",
                 "--cpu-period", "100000", "--env", "FOO=bar", "--env", "SECRET=x", "--label", "io.cri-containerd.kind=container",
                 "--label", "io.kubernetes.container.name=app"] + podLabels
                + ["docker.io/local/busybox:1", app, "/bin/sh", "-c", "while :; do :; done"])
        // A plain containerd container: namespace k8s.io's default cgroup /k8s.io/<id>.
        let plain = Self.randomID()
        try ctr(["run", "-d", "--label", "team=infra", "docker.io/local/busybox:1", plain, "/bin/sleep", "300"])

        let appName = "\(podCgroup)/\(app)"
        // (runc writes the limits just after creating the cgroup: the spec catches up within a second.)
        let info = try #require(try eventually {
            let i = try agent.json("/api/v1.3/containers\(appName)")
            let quota = ((i?["spec"] as? [String: Any])?["cpu"] as? [String: Any])?["quota"]
            return (i?["aliases"] as? [String])?.isEmpty == false && quota != nil ? i : nil
        }, "the app container gets its metadata and limits")
        #expect(info["aliases"] as? [String] == [app, appName], "cAdvisor's containerd aliases: [id, cgroup name]")
        #expect(info["namespace"] as? String == "containerd")
        let spec = try #require(info["spec"] as? [String: Any])
        #expect(spec["image"] as? String == "docker.io/local/busybox:1")
        #expect((spec["labels"] as? [String: String])?["io.kubernetes.pod.name"] == "demo-pod")
        #expect(spec["envs"] as? [String: String] == ["FOO": "bar"], "only whitelisted variables, from the OCI spec")
        #expect((spec["memory"] as? [String: Any])?["limit"] as? Int == 64 << 20)
        #expect((spec["cpu"] as? [String: Any])?["quota"] as? Int == 50000)

        // Kubernetes identity on /metrics (kubernetes label mode): container, pod, namespace; the sandbox is POD.
        let k8s = try RunningAgent(["-docker=", "-prometheus_labels=kubernetes"])
        defer { k8s.child.stop() }
        let series = try eventually {
            let body = try k8s.get("/metrics").body
            return body.contains("container=\"POD\"") && body.contains("container=\"app\"") ? body : nil
        }
        let metrics = try #require(series, "both containers of the pod named")
        #expect(metrics.contains(#"container="app",id="\#(appName)",image="docker.io/local/busybox:1",name="\#(app)",namespace="shop",pod="demo-pod""#))
        #expect(metrics.contains(#"container="POD",id="\#(podCgroup)/\#(sandbox)""#))
        #expect(metrics.contains(#"container="",id="\#(podCgroup)",image="",name="",namespace="shop",pod="demo-pod""#),
                "the pod cgroup carries pod and namespace")

        try checkKubeletEndpoints(agent, uid: uid, podCgroup: podCgroup)

        let plainInfo = try eventually { try agent.json("/api/v1.3/containers/k8s.io/\(plain)")?["aliases"] as? [String] }
        #expect(plainInfo == [plain, "/k8s.io/\(plain)"])

        // Stats that move, then stopping and removing: a deletion event.
        let cpu = { () throws -> Int in
            let s = try agent.json("/api/v2.0/stats\(appName)?count=1")?[appName] as? [[String: Any]]
            return ((s?.last?["cpu"] as? [String: Any])?["usage"] as? [String: Any])?["total"] as? Int ?? 0
        }
        let cpu0 = try cpu()
        #expect(try eventually { try cpu() > cpu0 + 100_000_000 ? true : nil } == true, "CPU of the busy container grows")
        try ctr(["tasks", "kill", "-s", "SIGKILL", app])
        _ = eventually { try? ctr(["tasks", "delete", app]) }
        try ctr(["containers", "delete", app])
        let deleted = try eventually {
            try agent.get("/api/v2.0/events\(appName)?deletion_events=true").body.contains("containerDeletion") ? true : nil
        }
        #expect(deleted == true)
        // Only the start-up self-check's mount(2) may be refused: gRPC works inside the sandbox.
        let refusals = agent.stopAndCollectSandboxRefusals()
        #expect(refusals.isEmpty, "\(refusals)")
    }

    /// /stats/summary decoded into the stats/v1alpha1 types, and /metrics/resource under metrics-server's rules.
    func checkKubeletEndpoints(_ agent: RunningAgent, uid: String, podCgroup: String) throws {
        typealias V = StatsV1Alpha1
        let summary = try #require(try eventually { () -> V.Summary? in
            let body = try agent.get("/stats/summary").body
            let s = try JSONDecoder().decode(V.Summary.self, from: Data(body.utf8))
            let pod = s.pods.first { $0.podRef.name == "demo-pod" }
            return (pod?.cpu?.usageNanoCores ?? 0) > 0 && (pod?.containers.first?.cpu?.usageNanoCores ?? 0) > 0 ? s : nil
        }, "the pod and its container with cpu rates")
        #expect(V.isMetaTime(summary.node.startTime) && summary.node.cpu.map { V.isMetaTime($0.time) } == true)
        #expect((summary.node.cpu?.usageCoreNanoSeconds ?? 0) > 0 && (summary.node.memory?.workingSetBytes ?? 0) > 0)
        #expect(summary.node.memory?.availableBytes != nil, "the node's limit is its memory")
        #expect(summary.node.rlimit?.maxpid != nil && summary.node.fs?.capacityBytes != nil)
        let pod = try #require(summary.pods.first { $0.podRef.name == "demo-pod" })
        #expect(pod.podRef.namespace == "shop" && pod.podRef.uid == uid)
        #expect(pod.containers.map { $0.name } == ["app"], "the sandbox (POD) is not a container of the pod")
        let app = try #require(pod.containers.first)
        #expect((app.cpu?.usageCoreNanoSeconds ?? 0) > 0 && (app.memory?.workingSetBytes ?? 0) > 0)
        #expect(app.memory?.availableBytes.map { $0 <= 64 << 20 } == true, "limit − working set")
        #expect((pod.memory?.workingSetBytes ?? 0) > 0, "pod-level memory from the pod<uid> cgroup")
        #expect(V.isMetaTime(pod.startTime) && V.isMetaTime(app.startTime))
        // Field names exactly the Go tags: nothing the types do not know.
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(agent.get("/stats/summary").body.utf8)) as? [String: Any])
        let node = try #require(raw["node"] as? [String: Any])
        #expect(Set(node.keys).isSubset(of: V.NodeStats.keys), "\(node.keys)")
        for p in raw["pods"] as? [[String: Any]] ?? [] {
            #expect(Set(p.keys).isSubset(of: V.PodStats.keys), "\(p.keys)")
            for c in p["containers"] as? [[String: Any]] ?? [] { #expect(Set(c.keys).isSubset(of: V.ContainerStats.keys)) }
        }
        // only_cpu_and_memory=true (GET and POST): no network, fs or rlimit.
        for method in ["GET", "POST"] {
            let r = try LoopbackHTTP.request(port: agent.port, "\(method) /stats/summary?only_cpu_and_memory=true HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            let small = try JSONDecoder().decode(V.Summary.self, from: Data(r.body.utf8))
            #expect(r.status == 200 && small.node.network == nil && small.node.fs == nil && small.node.rlimit == nil)
            #expect(small.pods.first { $0.podRef.name == "demo-pod" }?.containers.first?.memory != nil)
        }

        // /metrics/resource twice, a housekeeping apart, through python prometheus-client and metrics-server's rules.
        let dir = try TemporaryDirectory()
        try agent.get("/metrics/resource").body.write(toFile: dir.file("first"), atomically: true, encoding: .utf8)
        usleep(1_200_000)
        let second = try agent.get("/metrics/resource").body
        try second.write(toFile: dir.file("second"), atomically: true, encoding: .utf8)
        let check = try run("/usr/bin/python3", [Package.root + "/scripts/checks/resource-metrics.py", dir.file("first"),
                                                 dir.file("second"), "shop/demo-pod/app"])
        #expect(check.status == 0, "\(check.output)")
        #expect(second.contains("pod_memory_working_set_bytes{namespace=\"shop\",pod=\"demo-pod\"}"))
        #expect(!second.contains("container=\"POD\""))
    }
}
}
