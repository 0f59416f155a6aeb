import Foundation
import Testing
@testable import NodeMetrics

/// A real Podman API service (scripts/runtimes/podman-start.sh) and the real agent.
extension RuntimeDaemons {
@Suite(.serialized) struct PodmanTests {
    let state = "/tmp/node-metrics-podman-test-\(getpid())"

    func script(_ name: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/\(name)"])
    }

    func podman(_ args: [String]) throws -> String {
        let r = try run("/usr/bin/podman", ["--cgroup-manager=cgroupfs", "--events-backend=file"] + args, closingDescriptors: true)
        if r.status != 0 { throw TestFailure("podman \(args.joined(separator: " ")): \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func podmanContainersGetNamesLabelsImagesLimitsAndLayerUsage() throws {
        let started = try script("podman-start.sh")
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? script("podman-stop.sh") }
        let agent = try RunningAgent(["-env_metadata_whitelist=FOO", "-docker=", "-containerd="])
        defer { agent.child.stop() }
        let name = "nm-podman-\(getpid())"
        let id = try podman(["run", "-d", "--name", name, "--network", "none", "--ulimit", "nofile=4096:4096",
                             "--ulimit", "nproc=4096:4096", "--label", "app=demo", "-e", "FOO=bar", "-e", "SECRET=x",
                             "--memory", "64m", "--cpus", "0.5", "docker.io/local/busybox:1",
                             "sh", "-c", "head -c 3000000 /dev/zero > /big; while :; do :; done"])
        let cgroup = "/libpod_parent/libpod-\(id)"
        let info = try #require(try eventually {
            let i = try agent.json("/api/v1.3/containers\(cgroup)")
            let quota = ((i?["spec"] as? [String: Any])?["cpu"] as? [String: Any])?["quota"]
            return (i?["aliases"] as? [String])?.isEmpty == false && quota != nil ? i : nil
        }, "the podman container gets its metadata and limits")
        #expect(info["aliases"] as? [String] == [name, id])
        #expect(info["namespace"] as? String == "podman")
        let spec = try #require(info["spec"] as? [String: Any])
        #expect((spec["labels"] as? [String: String])?["app"] == "demo")
        #expect(spec["envs"] as? [String: String] == ["FOO": "bar"])
        #expect(spec["image"] as? String == "docker.io/local/busybox:1")
        #expect((spec["memory"] as? [String: Any])?["limit"] as? Int == 64 << 20)
        #expect((spec["cpu"] as? [String: Any])?["quota"] as? Int == 50000)
        // v2 by type=podman, with the writable layer's usage.
        let layer = try eventually {
            let s = try agent.json("/api/v2.0/stats/\(name)?type=podman&count=1")?[cgroup] as? [[String: Any]]
            let fs = (s?.last?["filesystem"] as? [[String: Any]])?.first
            return (fs?["base_usage"] as? Int ?? 0) >= 3_000_000 ? fs : nil
        }
        #expect(layer != nil, "the writable layer holds the 3 MB file")
        let metrics = try agent.get("/metrics?type=podman").body
        #expect(metrics.contains(#"container_fs_usage_bytes{container_env_FOO="bar",container_label_app="demo""#))
        #expect(metrics.contains("name=\"\(name)\""))

        _ = try podman(["rm", "-f", "-t", "0", name])
        let deleted = try eventually {
            try agent.get("/api/v2.0/events\(cgroup)?deletion_events=true").body.contains("containerDeletion") ? true : nil
        }
        #expect(deleted == true)
    }
}
}
