import Foundation
import Testing
@testable import NodeMetrics

/// cAdvisor's identity quirks (issue 15 part 5): the system_uuid chain, the root container's spec,
/// the root filesystem list and the version stamped from git.
@Suite struct IdentityQuirksTests {
    /// A root prefix holding only the files given.
    func root(_ files: [String: String]) throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        for (path, text) in files {
            let full = dir.path + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return dir
    }

    @Test func systemUUIDChainEndsAtTheMachineID() throws {
        let dmi = "/sys/class/dmi/id/product_uuid", systemID = "/proc/device-tree/system-id"
        let vmUUID = "/proc/device-tree/vm,uuid", machineID = "/etc/machine-id"
        let cases: [([String: String], String)] = [
            ([dmi: "4C4C4544-0042-3510-8052-B4C04F4E4B32\n", systemID: "x", machineID: "m\n"], "4C4C4544-0042-3510-8052-B4C04F4E4B32"),
            ([systemID: "IBM,0278B3BDW\0", vmUUID: "v", machineID: "m"], "IBM,0278B3BDW"),
            ([vmUUID: "7e4f3c2a-1111-2222-3333-444455556666\0", machineID: "m"], "7e4f3c2a-1111-2222-3333-444455556666"),
            ([machineID: "3d1219c7c4c5404aaa1f6d2a48adfda4\n"], "3d1219c7c4c5404aaa1f6d2a48adfda4"),
            ([dmi: "\n", machineID: "m"], "m"),
            ([:], ""),
        ]
        for (files, want) in cases {
            let dir = try root(files)
            #expect(SystemIdentity.systemUUID(paths: HostPaths(root: dir.path)) == want, "\(files.keys.sorted())")
        }
    }

    @Test func rootFilesystemsAreCAdvisorsList() throws {
        // Mount points that exist here (statfs must answer), with the sources and types cAdvisor keys on.
        let mounts = try MountInfo.parse("""
            20 1 253:1 / / rw - ext4 /dev/vda1 rw
            21 20 0:5 / /dev/shm rw - tmpfs shm rw
            22 20 0:6 / /sys/fs/cgroup rw - tmpfs tmpfs rw
            23 20 253:1 /var /tmp rw - ext4 /dev/vda1 rw
            24 20 0:50 / /proc rw - proc proc rw
            25 20 0:51 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw
            26 20 0:52 / /var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/s rw - tmpfs tmpfs rw
            27 20 0:53 / /tmp rw - overlay overlay rw
            28 20 0:54 / /dev rw - devtmpfs udev rw
            29 20 8:1 / /boot/efi rw - vfat /dev/sda1 rw
            """)
        let fs = MachineInfo.filesystems(mounts: mounts, paths: HostPaths())
        #expect(fs.map(\.device) == ["/dev/vda1", "/dev/shm", "/sys/fs/cgroup", "overlay_0-53"])
        #expect(fs.map(\.type) == ["ext4", "tmpfs", "tmpfs", "overlay"])
        #expect(fs.first?.mountPoint == "/" && fs.allSatisfy { $0.capacity > 0 })
    }

    /// The real agent: `/`'s memory limit is the machine's memory everywhere, its filesystems include
    /// the host's tmpfs mounts, system_uuid follows the chain, and the version is git's.
    @Test func liveRootSpecVersionAndIdentity() throws {
        let agent = try RunningAgent(["-docker=", "-podman=", "-containerd="])
        defer { agent.child.stop() }
        let machine = try #require(try agent.json("/api/v1.3/machine"))
        let capacity = try #require(machine["memory_capacity"] as? Int)
        #expect(machine["system_uuid"] as? String == SystemIdentity.systemUUID(paths: HostPaths()))
        if !FileManager.default.fileExists(atPath: "/sys/class/dmi/id/product_uuid") {
            let id = try String(contentsOfFile: "/etc/machine-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(machine["system_uuid"] as? String == id, "no DMI here: the chain ends at /etc/machine-id")
        }
        let v1 = try #require(try agent.json("/api/v1.3/containers/")?["spec"] as? [String: Any])
        #expect((v1["memory"] as? [String: Any])?["limit"] as? Int == capacity && v1["has_memory"] as? Bool == true)
        #expect(v1["has_network"] as? Bool == true && v1["has_filesystem"] as? Bool == true)
        let v2 = try #require(try agent.json("/api/v2.0/spec/?recursive=false")?["/"] as? [String: Any])
        #expect((v2["memory"] as? [String: Any])?["limit"] as? Int == capacity && v2["has_memory"] as? Bool == true)
        let metrics = try #require(try eventually { () -> String? in
            let body = try agent.get("/metrics").body
            return body.contains("container_fs_limit_bytes{") ? body : nil
        })
        let limit = metrics.split(separator: "\n").first { $0.hasPrefix("container_spec_memory_limit_bytes{") && $0.contains("id=\"/\"") }
        let value = limit?.split(separator: "}").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect(value == Double(capacity), "\(limit ?? "none")")
        // The root's filesystems are the machine's list (tmpfs mounts by mount point; no container mounts).
        let devices = (machine["filesystems"] as? [[String: Any]] ?? []).compactMap { $0["device"] as? String }
        #expect(devices.contains("/dev/shm") && devices.contains { $0.hasPrefix("/dev/") && $0 != "/dev/shm" }, "\(devices)")
        #expect(!devices.contains { $0.contains("/var/lib/docker") })
        let rootFs = metrics.split(separator: "\n").filter { $0.hasPrefix("container_fs_limit_bytes{") && $0.contains("id=\"/\"") }
        #expect(Set(devices) == Set(rootFs.compactMap { $0.firstMatch(of: /device="([^"]*)"/).map { String($0.1) } }), "\(rootFs)")
        // Version and revision from git (a commit of this repository), the same in every place.
        #expect(AgentVersion.revision.count == 40 && AgentVersion.current != "unknown" && AgentVersion.current != "0.1.0")
        #expect(try run("/usr/bin/git", ["-C", Package.root, "cat-file", "-e", AgentVersion.revision + "^{commit}"]).status == 0)
        #expect(try agent.json("/api/v2.0/attributes")?["cadvisor_version"] as? String == AgentVersion.current)
        #expect(try agent.get("/api/v2.0/version").body == "\"\(AgentVersion.current)\"")
        #expect(metrics.contains("cadvisor_version_info{cadvisorRevision=\"\(AgentVersion.revision)\",cadvisorVersion=\"\(AgentVersion.current)\""))
    }

    /// The stamp script from a tree without .git: "unknown"; with the environment variables: theirs.
    @Test func stampWithoutGitIsUnknown() throws {
        let tree = try TemporaryDirectory()
        let script = try String(contentsOfFile: Package.root + "/Sources/VersionStamp/VersionStamp.swift", encoding: .utf8)
        let body = try #require(script.components(separatedBy: "#\"\"\"\n").dropFirst().first?.components(separatedBy: "\"\"\"#").first)
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
        try lines.joined(separator: "\n").write(toFile: tree.file("stamp.sh"), atomically: true, encoding: .utf8)
        _ = try run("/bin/sh", [tree.file("stamp.sh"), tree.path, tree.file("out")])
        let plain = try String(contentsOfFile: tree.file("out/BuildStamp.swift"), encoding: .utf8)
        #expect(plain.contains("static let version = \"unknown\"") && plain.contains("static let revision = \"unknown\""), "\(plain)")
        _ = try run("/usr/bin/env", ["NODE_METRICS_VERSION=1.2.3", "NODE_METRICS_REVISION=abc\"; evil", "/bin/sh",
                                     tree.file("stamp.sh"), tree.path, tree.file("out")])
        let given = try String(contentsOfFile: tree.file("out/BuildStamp.swift"), encoding: .utf8)
        #expect(given.contains("static let version = \"1.2.3\"") && given.contains("static let revision = \"abcevil\""), "\(given)")
    }
}
