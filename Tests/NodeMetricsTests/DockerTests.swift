import Foundation
import Testing
@testable import NodeMetrics

/// Tests that start real runtime daemons run one after another: dockerd would adopt a standalone
/// containerd on the default socket, and stopping one daemon must not pull the other's rug.
@Suite(.serialized) struct RuntimeDaemons {}

/// A real dockerd (scripts/runtimes/docker-start.sh) and the real agent.
extension RuntimeDaemons {
@Suite(.serialized) struct DockerTests {
    let state = "/tmp/node-metrics-docker-test-\(getpid())"

    func script(_ name: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/\(name)"])
    }

    func docker(_ args: [String]) throws -> String {
        let r = try run("/usr/bin/docker", args)
        if r.status != 0 { throw TestFailure("docker \(args.joined(separator: " ")): \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func dockerContainersGetNamesLabelsImagesAndLimits() throws {
        let started = try script("docker-start.sh")
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? script("docker-stop.sh") }
        let agent = try RunningAgent(["-env_metadata_whitelist=FOO", "-docker_only"])
        defer { agent.child.stop() }
        let name = "nm-test-\(getpid())"
        let id = try docker(["run", "-d", "--name", name, "--network", "none", "--label", "app=demo", "--label", "tier=web",
                             "-e", "FOO=bar", "-e", "SECRET=hidden", "--memory", "64m", "--cpus", "0.5",
                             "local/busybox:1", "sh", "-c", "head -c 3000000 /dev/zero > /big; while :; do :; done"])
        defer { _ = try? docker(["rm", "-f", name]) }
        let cgroup = "/docker/\(id)"

        // v1 docker endpoint by name: aliases [name, id], namespace, labels, whitelisted env, image, limits.
        // (Docker writes the limits just after creating the cgroup: the spec catches up within a second.)
        let info = try #require(try eventually {
            let i = try agent.json("/api/v1.3/docker/\(name)")?[cgroup] as? [String: Any]
            return ((i?["spec"] as? [String: Any])?["cpu"] as? [String: Any])?["quota"] != nil ? i : nil
        })
        #expect(info["aliases"] as? [String] == [name, id])
        #expect(info["namespace"] as? String == "docker")
        #expect(info["id"] as? String == id)
        let spec = try #require(info["spec"] as? [String: Any])
        #expect(spec["labels"] as? [String: String] == ["app": "demo", "tier": "web"])
        #expect(spec["envs"] as? [String: String] == ["FOO": "bar"], "only whitelisted variables")
        #expect(spec["image"] as? String == "local/busybox:1")
        #expect((spec["memory"] as? [String: Any])?["limit"] as? Int == 64 << 20)
        #expect((spec["cpu"] as? [String: Any])?["quota"] as? Int == 50000)
        // v2 by type=docker, and stats that move.
        let first = try #require(try agent.json("/api/v2.0/stats/\(id.prefix(12))?type=docker&count=1")?[cgroup] as? [[String: Any]])
        let cpu0 = ((first.last?["cpu"] as? [String: Any])?["usage"] as? [String: Any])?["total"] as? Int ?? 0
        let moved = try eventually {
            let s = try agent.json("/api/v2.0/stats/\(name)?type=docker&count=1")?[cgroup] as? [[String: Any]]
            let cpu = ((s?.last?["cpu"] as? [String: Any])?["usage"] as? [String: Any])?["total"] as? Int ?? 0
            return cpu > cpu0 + 100_000_000 ? cpu : nil
        }
        #expect(moved != nil, "CPU of the busy container grows")
        // The writable layer's usage (3 MB written), measured off the sampling path.
        let layer = try eventually {
            let s = try agent.json("/api/v2.0/stats/\(name)?type=docker&count=1")?[cgroup] as? [[String: Any]]
            let fs = (s?.last?["filesystem"] as? [[String: Any]])?.first
            return (fs?["base_usage"] as? Int ?? 0) >= 3_000_000 ? fs : nil
        }
        #expect(layer != nil, "the writable layer holds the 3 MB file")
        #expect((layer?["usage"] as? Int ?? 0) >= (layer?["base_usage"] as? Int ?? 0), "usage adds the log directory")
        #expect((layer?["device"] as? String)?.hasPrefix("/dev/") == true && (layer?["capacity"] as? Int ?? 0) > 0)
        // /metrics: name and image labels, the label union, Docker's version.
        let metrics = try agent.get("/metrics").body
        #expect(metrics.contains("name=\"\(name)\"") && metrics.contains("image=\"local/busybox:1\"") && metrics.contains("container_label_app=\"demo\""))
        #expect(metrics.contains("dockerVersion=\"2") || metrics.contains("dockerVersion=\"1"))

        // dockerd killed: sampling goes on; metadata comes back (and new containers get theirs) after a restart.
        let pid = try #require(Int32(try String(contentsOfFile: state + "/dockerd.pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGKILL)
        let before = try agent.json("/api/v2.0/stats/\(cgroup)?count=1")?[cgroup] as? [[String: Any]]
        usleep(2_500_000)
        let after = try agent.json("/api/v2.0/stats/\(cgroup)?count=1")?[cgroup] as? [[String: Any]]
        #expect(before?.last?["timestamp"] as? String != after?.last?["timestamp"] as? String, "still sampling without dockerd")
        try? FileManager.default.removeItem(atPath: state + "/dockerd.pid")
        let restarted = try script("docker-start.sh")
        try #require(restarted.status == 0, "\(restarted.output)")
        let second = "\(name)-2"
        let id2 = try docker(["run", "-d", "--name", second, "--network", "none", "--label", "app=second", "local/busybox:1", "sleep", "300"])
        defer { _ = try? docker(["rm", "-f", second]) }
        let info2 = try eventually(40) { try agent.json("/api/v1.3/docker/\(second)")?["/docker/\(id2)"] as? [String: Any] }
        #expect(info2?["aliases"] as? [String] == [second, id2], "metadata again after dockerd restarted")

        // Removing a container: a deletion event.
        _ = try docker(["rm", "-f", second])
        let deleted = try eventually {
            let r = try agent.get("/api/v2.0/events/docker/\(id2)?deletion_events=true")
            return r.body.contains("containerDeletion") ? true : nil
        }
        #expect(deleted == true)
        agent.child.stop()
        #expect(agent.child.log.contains("connected to Docker"))
    }
}
}
