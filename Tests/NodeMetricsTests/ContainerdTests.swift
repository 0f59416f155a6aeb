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

    func json(_ agent: RunningAgent, _ path: String) throws -> [String: Any]? {
        let r = try agent.get(path)
        guard r.status == 200 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
    }

    func eventually<T>(_ seconds: Double = 20, _ body: () throws -> T?) rethrows -> T? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let v = try body() { return v }
            usleep(200_000)
        }
        return nil
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
            let i = try json(agent, "/api/v1.3/containers\(appName)")
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

        let plainInfo = try eventually { try json(agent, "/api/v1.3/containers/k8s.io/\(plain)")?["aliases"] as? [String] }
        #expect(plainInfo == [plain, "/k8s.io/\(plain)"])

        // Stats that move, then stopping and removing: a deletion event.
        let cpu = { () throws -> Int in
            let s = try json(agent, "/api/v2.0/stats\(appName)?count=1")?[appName] as? [[String: Any]]
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
        agent.child.stop()
        #expect(!agent.child.log.contains("seccomp refused"), "gRPC works inside the sandbox: \(agent.child.log)")
    }
}
}
