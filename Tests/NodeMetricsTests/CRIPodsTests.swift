import Foundation
import Testing
@testable import NodeMetrics

/// Real pods created over CRI (containerd's CRI plugin, as the kubelet creates them: a sandbox with
/// the pod's labels, annotations, log directory and cgroup parent, containers with the kubelet's
/// labels and log paths; host network, as no CNI is configured here), the agent reading the host
/// through a `-root` whose kubelet and pod-log trees are the test's own: `/pods` lists them as the
/// kubelet would, and the Summary API's disk figures equal what statvfs and du say of the same
/// directories.
extension RuntimeDaemons {
@Suite(.serialized) struct CRIPodsTests {
    let state = "/tmp/node-metrics-cri-test-\(getpid())"

    func script(_ name: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/\(name)"])
    }

    /// A host view for `-root`: the host's top-level entries as symbolic links, except the kubelet's
    /// directory and the pod log tree, which are real directories of the test.
    static func mirrorRoot(_ root: String) throws {
        let fm = FileManager.default
        /// Links every entry of `dir` into the root but those in `own`, which are made real directories.
        func link(_ dir: String, except own: [String]) throws {
            try fm.createDirectory(atPath: root + dir, withIntermediateDirectories: true)
            for name in try fm.contentsOfDirectory(atPath: dir.isEmpty ? "/" : dir) where !own.contains(name) {
                try fm.createSymbolicLink(atPath: "\(root)\(dir)/\(name)", withDestinationPath: "\(dir)/\(name)")
            }
        }
        try link("", except: ["var"])
        try link("/var", except: ["lib", "log"])
        try link("/var/lib", except: ["kubelet"])
        try fm.createDirectory(atPath: root + "/var/log/pods", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: root + "/var/lib/kubelet/pods", withIntermediateDirectories: true)
    }

    typealias V = StatsV1Alpha1

    @Test func podsAndSummaryDiskFiguresFromRealCRIPods() throws {
        let started = try script("containerd-start.sh")
        try #require(started.status == 0, "\(started.output)")
        let root = try TemporaryDirectory()
        try Self.mirrorRoot(root.path)
        let uid = UUID().uuidString.lowercased()
        let podCgroup = "/kubepods/burstable/pod\(uid)"
        // Generous: with every other suite running beside it on 2 cores, creating a sandbox took over 30 s.
        let cri = CRIClient(socketPath: "/run/containerd/containerd.sock", scheme: "containerd",
                            timeout: .seconds(Int64(120 * TestTiming.slowdown)))
        var sandboxID = ""
        defer {
            if !sandboxID.isEmpty { _ = try? cri.removePod(sandboxID) }
            _ = try? script("containerd-stop.sh")
            let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
            for h in hierarchies {
                for dir in [podCgroup, "/kubepods/burstable", "/kubepods"] { rmdir("/sys/fs/cgroup/\(h)\(dir)") }
            }
        }

        // The kubelet's trees: the pod's log directory (and the container's, which the kubelet makes)
        // and its volumes: an emptyDir with files, a configMap.
        let logDir = root.path + "/var/log/pods/shop_web_\(uid)"
        let volumes = root.path + "/var/lib/kubelet/pods/\(uid)/volumes"
        for dir in [logDir + "/app", logDir + "/sidecar", volumes + "/kubernetes.io~empty-dir/cache/sub",
                    volumes + "/kubernetes.io~configmap/settings"] {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        }
        try Data(repeating: 7, count: 300_000).write(to: URL(fileURLWithPath: volumes + "/kubernetes.io~empty-dir/cache/blob"))
        try Data(repeating: 1, count: 5_000).write(to: URL(fileURLWithPath: volumes + "/kubernetes.io~empty-dir/cache/sub/small"))
        try "level: debug\n".write(toFile: volumes + "/kubernetes.io~configmap/settings/config.yaml", atomically: true, encoding: .utf8)

        // The pod, as the kubelet asks for it.
        let pod = try cri.runPod(name: "web", namespace: "shop", uid: uid, logDirectory: logDir, cgroupParent: podCgroup,
                                 labels: ["app": "web"], annotations: ["team": "checkout"])
        sandboxID = pod.sandboxID
        let app = try cri.startContainer(pod, name: "app", image: "docker.io/local/busybox:1", command: [
            "/bin/sh", "-c", "i=0; while [ $i -lt 200 ]; do echo line $i of the app log; i=$((i+1)); done; "
                + "/bin/busybox dd if=/dev/zero of=/data.bin bs=1024 count=700 2>/dev/null; exec sleep 3000"])
        let sidecar = try cri.startContainer(pod, name: "sidecar", image: "docker.io/local/busybox:1",
                                             command: ["/bin/sh", "-c", "echo bye; exit 3"])

        let agent = try RunningAgent(["-docker=", "-root=\(root.path)", "-node_name=test-node"])
        defer { agent.child.stop() }

        // /pods: the pod, its two containers, the one running and the one that exited with 3.
        let list = try #require(try eventually { () -> [String: Any]? in
            let r = try agent.get("/pods")
            guard r.status == 200, let json = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any],
                  let items = json["items"] as? [[String: Any]] else { return nil }
            let web = items.first { ($0["metadata"] as? [String: Any])?["uid"] as? String == uid }
            let statuses = (web?["status"] as? [String: Any])?["containerStatuses"] as? [[String: Any]] ?? []
            let exited = statuses.contains { (($0["state"] as? [String: Any])?["terminated"]) != nil }
            return statuses.count == 2 && exited ? json : nil
        }, "/pods lists the pod with both containers, the sidecar terminated")
        #expect(list["kind"] as? String == "PodList" && list["apiVersion"] as? String == "v1")
        let web = try #require((list["items"] as? [[String: Any]])?.first { ($0["metadata"] as? [String: Any])?["uid"] as? String == uid })
        let meta = try #require(web["metadata"] as? [String: Any])
        #expect(meta["name"] as? String == "web" && meta["namespace"] as? String == "shop")
        #expect(meta["labels"] as? [String: String] == ["app": "web"], "the pod's labels, without the kubelet's io.kubernetes.pod.*")
        #expect(meta["annotations"] as? [String: String] == ["team": "checkout"])
        #expect(V.isMetaTime(meta["creationTimestamp"] as? String ?? ""))
        let spec = try #require(web["spec"] as? [String: Any])
        #expect(spec["nodeName"] as? String == "test-node" && spec["hostNetwork"] as? Bool == true)
        let specContainers = spec["containers"] as? [[String: Any]] ?? []
        #expect(specContainers.map { $0["name"] as? String } == ["app", "sidecar"])
        #expect(specContainers.allSatisfy { $0["image"] as? String == "docker.io/local/busybox:1" })
        let status = try #require(web["status"] as? [String: Any])
        #expect(status["phase"] as? String == "Running")
        let statuses = status["containerStatuses"] as? [[String: Any]] ?? []
        let appStatus = try #require(statuses.first { $0["name"] as? String == "app" })
        #expect(appStatus["containerID"] as? String == "containerd://\(app)")
        #expect(appStatus["ready"] as? Bool == true && appStatus["started"] as? Bool == true)
        #expect(appStatus["restartCount"] as? Int == 0 && (appStatus["imageID"] as? String ?? "").isEmpty == false)
        #expect(V.isMetaTime(((appStatus["state"] as? [String: Any])?["running"] as? [String: Any])?["startedAt"] as? String ?? ""))
        let sidecarStatus = try #require(statuses.first { $0["name"] as? String == "sidecar" })
        let terminated = try #require((sidecarStatus["state"] as? [String: Any])?["terminated"] as? [String: Any])
        #expect(terminated["exitCode"] as? Int == 3 && terminated["containerID"] as? String == "containerd://\(sidecar)")
        #expect(sidecarStatus["ready"] as? Bool == false)

        // The Summary API's disk figures, compared with du and statvfs of the same directories once the
        // walks have caught up with what the app wrote.
        let pid = try #require(eventually { () -> Int32? in
            let procs = try? String(contentsOfFile: "/sys/fs/cgroup/memory\(podCgroup)/\(app)/cgroup.procs", encoding: .utf8)
            return procs?.split(separator: "\n").first.flatMap { Int32($0) }
        }, "the app's process")
        let mountinfo = try String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)
        let rootLine = try #require(mountinfo.split(separator: "\n").last { $0.split(separator: " ").dropFirst(4).first == "/" })
        let upper = try #require(rootLine.split(separator: ",").first { $0.hasPrefix("upperdir=") }?.dropFirst("upperdir=".count))
        let layer = String(upper)
        let checked = try eventually(40) { () -> V.Summary? in
            let s = try JSONDecoder().decode(V.Summary.self, from: Data(agent.get("/stats/summary").body.utf8))
            guard let p = s.pods.first(where: { $0.podRef.uid == uid }),
                  let c = p.containers.first(where: { $0.name == "app" }) else { return nil }
            let (layerDu, logDu) = (try CRIPodsTestsSupport.du(layer), try CRIPodsTestsSupport.du(logDir + "/app"))
            return c.rootfs?.usedBytes == layerDu.bytes && c.logs?.usedBytes == logDu.bytes && layerDu.bytes > 700 * 1024
                && p.volume?.count == 2 && s.node.runtime?.imageFs != nil ? s : nil
        }
        let summary = try #require(checked, "rootfs and logs equal du of the writable layer and the log directory")
        let pod0 = try #require(summary.pods.first { $0.podRef.uid == uid })
        let c = try #require(pod0.containers.first { $0.name == "app" })
        let rootfs = try #require(c.rootfs), logs = try #require(c.logs)
        #expect(rootfs.inodesUsed == (try CRIPodsTestsSupport.du(layer)).inodes)
        #expect(logs.inodesUsed == (try CRIPodsTestsSupport.du(logDir + "/app")).inodes)
        let layerFs = try CRIPodsTestsSupport.statfs(layer)
        #expect(rootfs.capacityBytes == layerFs.capacity && rootfs.inodes == layerFs.inodes)
        #expect(rootfs.availableBytes.map { $0.distance(to: layerFs.available).magnitude < 256 << 20 } == true,
                "available within 256 MiB of now (other writers share the disk)")
        let logFs = try CRIPodsTestsSupport.statfs(logDir)
        #expect(logs.capacityBytes == logFs.capacity && logs.inodes == logFs.inodes)

        // Volumes: each equal to du of its directory, capacity from statvfs; pvcRef unknown here.
        #expect(pod0.volume?.map(\.name) == ["cache", "settings"])
        let cache = try #require(pod0.volume?.first { $0.name == "cache" })
        let cacheDu = try CRIPodsTestsSupport.du(volumes + "/kubernetes.io~empty-dir/cache")
        #expect(cache.usedBytes == cacheDu.bytes && cache.inodesUsed == cacheDu.inodes && cacheDu.inodes == 4)
        let volumeFs = try CRIPodsTestsSupport.statfs(volumes)
        #expect(cache.capacityBytes == volumeFs.capacity && cache.inodes == volumeFs.inodes)
        let settings = try #require(pod0.volume?.first { $0.name == "settings" })
        #expect(settings.usedBytes == (try CRIPodsTestsSupport.du(volumes + "/kubernetes.io~configmap/settings")).bytes)

        // Ephemeral storage: the containers' rootfs and logs plus the emptyDir.
        let ephemeral = try #require(pod0.ephemeralStorage)
        let parts = pod0.containers.flatMap { [$0.rootfs?.usedBytes, $0.logs?.usedBytes].compactMap { $0 } }
        #expect(ephemeral.usedBytes == parts.reduce(0, +) + cacheDu.bytes)
        #expect(ephemeral.capacityBytes == volumeFs.capacity)

        // The image filesystem: containerd's snapshotter directory.
        let snapshots = "/var/lib/containerd/io.containerd.snapshotter.v1.overlayfs"
        let imageFs = try #require(summary.node.runtime?.imageFs)
        let snapshotFs = try CRIPodsTestsSupport.statfs(snapshots)
        #expect(imageFs.capacityBytes == snapshotFs.capacity && imageFs.inodes == snapshotFs.inodes)
        let snapshotDu = try CRIPodsTestsSupport.du(snapshots)
        #expect(imageFs.usedBytes.map { $0.distance(to: snapshotDu.bytes).magnitude < 1 << 20 } == true,
                "\(String(describing: imageFs.usedBytes)) vs du \(snapshotDu.bytes)")
        #expect(summary.node.runtime?.containerFs?.capacityBytes == snapshotFs.capacity)
        // ... the directory containerd itself names as its image filesystem over CRI (ImageFsInfo), whose
        // usage (its own periodic walk of the snapshots) is close to ours.
        let reported = try cri.imageFilesystems()
        #expect(reported.map(\.fsID.mountpoint) == [snapshots])
        if let used = reported.first?.usedBytes.value, let ours = imageFs.usedBytes {
            #expect(used.distance(to: ours).magnitude < 1 << 20, "containerd \(used), ours \(ours)")
        }

        // Field names exactly the Go tags.
        let raw = try #require(try JSONSerialization.jsonObject(with: Data(agent.get("/stats/summary").body.utf8)) as? [String: Any])
        for p in raw["pods"] as? [[String: Any]] ?? [] {
            #expect(Set(p.keys).isSubset(of: V.PodStats.keys), "\(p.keys)")
            for v in p["volume"] as? [[String: Any]] ?? [] { #expect(Set(v.keys).isSubset(of: V.VolumeStats.keys), "\(v.keys)") }
        }
        // The walks (statfs, getdents) and the CRI calls run inside the seccomp sandbox.
        let refusals = agent.stopAndCollectSandboxRefusals()
        #expect(refusals.isEmpty, "\(refusals)")
    }
}
}

/// du and statvfs as the shell tools report them, for comparing the agent's figures.
enum CRIPodsTestsSupport {
    /// `du -s -B1` and `du -s --inodes` of a directory.
    static func du(_ path: String) throws -> (bytes: UInt64, inodes: UInt64) {
        func first(_ args: [String]) throws -> UInt64 {
            let r = try run("/usr/bin/du", args + [path])
            return try #require(r.output.split(whereSeparator: { $0 == "\t" || $0 == " " }).first.flatMap { UInt64($0) }, "\(r.output)")
        }
        return (try first(["-s", "-B1"]), try first(["-s", "--inodes"]))
    }

    /// statvfs as `stat -f` reports it: capacity, available bytes, inodes, free inodes.
    static func statfs(_ path: String) throws -> (capacity: UInt64, available: UInt64, inodes: UInt64, free: UInt64) {
        let r = try run("/usr/bin/stat", ["-f", "-c", "%S %b %a %c %d", path])
        let v = r.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt64($0) }
        try #require(v.count == 5, "\(r.output)")
        return (v[0] * v[1], v[0] * v[2], v[3], v[4])
    }

}

/// What the tests ask a CRI runtime to do, as the kubelet asks it.
extension CRIClient {
    /// The CRI methods the tests call, as the kubelet calls them.
    enum TestMethod {
        static let runPodSandbox = GRPCMethod<Runtime_V1_RunPodSandboxRequest, Runtime_V1_RunPodSandboxResponse>(
            "/runtime.v1.RuntimeService/RunPodSandbox")
        static let createContainer = GRPCMethod<Runtime_V1_CreateContainerRequest, Runtime_V1_CreateContainerResponse>(
            "/runtime.v1.RuntimeService/CreateContainer")
        static let startContainer = GRPCMethod<Runtime_V1_StartContainerRequest, Runtime_V1_StartContainerResponse>(
            "/runtime.v1.RuntimeService/StartContainer")
        static let stopPodSandbox = GRPCMethod<Runtime_V1_StopPodSandboxRequest, Runtime_V1_StopPodSandboxResponse>(
            "/runtime.v1.RuntimeService/StopPodSandbox")
        static let removePodSandbox = GRPCMethod<Runtime_V1_RemovePodSandboxRequest, Runtime_V1_RemovePodSandboxResponse>(
            "/runtime.v1.RuntimeService/RemovePodSandbox")
        static let imageFsInfo = GRPCMethod<Runtime_V1_ImageFsInfoRequest, Runtime_V1_ImageFsInfoResponse>(
            "/runtime.v1.ImageService/ImageFsInfo")
    }

    struct RunningPod {
        var sandboxID: String
        var config: Runtime_V1_PodSandboxConfig
    }

    func runPod(name: String, namespace: String, uid: String, logDirectory: String, cgroupParent: String,
                labels: [String: String], annotations: [String: String]) throws -> RunningPod {
        var config = Runtime_V1_PodSandboxConfig()
        config.metadata.name = name
        config.metadata.namespace = namespace
        config.metadata.uid = uid
        // No hostname: a host-network pod shares the node's UTS namespace.
        config.logDirectory = logDirectory
        config.labels = labels.merging([ContainerMetadata.podNameLabel: name, ContainerMetadata.podNamespaceLabel: namespace,
                                        ContainerMetadata.podUIDLabel: uid]) { a, _ in a }
        config.annotations = annotations
        config.linux.cgroupParent = cgroupParent
        config.linux.securityContext.namespaceOptions.network = .node
        var run = Runtime_V1_RunPodSandboxRequest()
        run.config = config
        let id = try withClient { client in try client.call(TestMethod.runPodSandbox, run).podSandboxID }
        return RunningPod(sandboxID: id, config: config)
    }

    /// Creates and starts a container in `pod`; its id.
    func startContainer(_ pod: RunningPod, name: String, image: String, command: [String]) throws -> String {
        var config = Runtime_V1_ContainerConfig()
        config.metadata.name = name
        config.image.image = image
        config.command = command
        config.logPath = "\(name)/0.log"
        config.labels = [ContainerMetadata.containerNameLabel: name,
                         ContainerMetadata.podNameLabel: pod.config.metadata.name,
                         ContainerMetadata.podNamespaceLabel: pod.config.metadata.namespace,
                         ContainerMetadata.podUIDLabel: pod.config.metadata.uid]
        config.linux.securityContext.namespaceOptions.network = .node
        var request = Runtime_V1_CreateContainerRequest()
        request.podSandboxID = pod.sandboxID
        request.config = config
        request.sandboxConfig = pod.config
        return try withClient { client in
            let id = try client.call(TestMethod.createContainer, request).containerID
            var start = Runtime_V1_StartContainerRequest()
            start.containerID = id
            _ = try client.call(TestMethod.startContainer, start)
            return id
        }
    }

    /// The image filesystems the runtime reports (ImageFsInfo).
    func imageFilesystems() throws -> [Runtime_V1_FilesystemUsage] {
        try withClient { client in try client.call(TestMethod.imageFsInfo, Runtime_V1_ImageFsInfoRequest()).imageFilesystems }
    }

    /// Stops and removes a sandbox with its containers.
    func removePod(_ id: String) throws {
        try withClient { client in
            var stop = Runtime_V1_StopPodSandboxRequest()
            stop.podSandboxID = id
            _ = try client.call(TestMethod.stopPodSandbox, stop)
            var remove = Runtime_V1_RemovePodSandboxRequest()
            remove.podSandboxID = id
            _ = try client.call(TestMethod.removePodSandbox, remove)
        }
    }
}

/// The PodList written from CRI statuses as a runtime returns them: restarts, phases, labels.
@Suite struct PodListTests {
    static func container(_ name: String, attempt: UInt32, state: Runtime_V1_ContainerState, exit: Int32 = 0) -> Runtime_V1_ContainerStatus {
        var c = Runtime_V1_ContainerStatus()
        c.id = "\(name)-\(attempt)"
        c.metadata.name = name
        c.metadata.attempt = attempt
        c.state = state
        c.createdAt = 1_700_000_000_000_000_000 + Int64(attempt)
        c.startedAt = c.createdAt
        c.finishedAt = state == .containerExited ? c.createdAt + 1_000_000_000 : 0
        c.exitCode = exit
        c.image.image = "docker.io/library/nginx:1"
        c.imageRef = "docker.io/library/nginx@sha256:abc"
        return c
    }

    static func sandbox(ready: Bool) -> Runtime_V1_PodSandboxStatus {
        var s = Runtime_V1_PodSandboxStatus()
        s.id = "sb"
        s.metadata.name = "web"
        s.metadata.namespace = "shop"
        s.metadata.uid = "u-1"
        s.state = ready ? .sandboxReady : .sandboxNotready
        s.createdAt = 1_700_000_000_000_000_000
        s.labels = ["app": "web", ContainerMetadata.podNameLabel: "web", ContainerMetadata.podNamespaceLabel: "shop",
                    ContainerMetadata.podUIDLabel: "u-1"]
        s.network.ip = "10.1.2.3"
        var extra = Runtime_V1_PodIP()
        extra.ip = "fd00::3"
        s.network.additionalIps = [extra]
        return s
    }

    static func render(_ pods: [CRIClient.Pod]) throws -> [String: Any] {
        var w = JSONWriter()
        PodList.write([PodList.Source(scheme: "cri-o", pods: pods)], nodeName: "n1", to: &w)
        return try #require(try JSONSerialization.jsonObject(with: Data(w.bytes)) as? [String: Any])
    }

    @Test func restartedContainerShowsItsAttemptAndLastState() throws {
        let pod = CRIClient.Pod(sandbox: Self.sandbox(ready: true),
                                containers: [Self.container("app", attempt: 0, state: .containerExited, exit: 137),
                                             Self.container("app", attempt: 1, state: .containerRunning)])
        let json = try Self.render([pod])
        let item = try #require((json["items"] as? [[String: Any]])?.first)
        #expect((item["metadata"] as? [String: Any])?["labels"] as? [String: String] == ["app": "web"])
        let status = try #require(item["status"] as? [String: Any])
        #expect(status["phase"] as? String == "Running" && status["podIP"] as? String == "10.1.2.3")
        #expect((status["podIPs"] as? [[String: String]])?.map { $0["ip"] } == ["10.1.2.3", "fd00::3"])
        let app = try #require((status["containerStatuses"] as? [[String: Any]])?.first)
        #expect(app["restartCount"] as? Int == 1 && app["containerID"] as? String == "cri-o://app-1")
        #expect(((app["lastState"] as? [String: Any])?["terminated"] as? [String: Any])?["exitCode"] as? Int == 137)
        #expect(app["imageID"] as? String == "docker.io/library/nginx@sha256:abc")
    }

    @Test func phaseFollowsTheContainers() {
        let ready = Self.sandbox(ready: true), gone = Self.sandbox(ready: false)
        #expect(PodList.phase(sandbox: ready, containers: [Self.container("a", attempt: 0, state: .containerCreated)]) == "Pending")
        #expect(PodList.phase(sandbox: gone, containers: [Self.container("a", attempt: 0, state: .containerExited)]) == "Succeeded")
        #expect(PodList.phase(sandbox: gone, containers: [Self.container("a", attempt: 0, state: .containerExited),
                                                          Self.container("b", attempt: 0, state: .containerExited, exit: 2)]) == "Failed")
        #expect(PodList.phase(sandbox: ready, containers: []) == "Pending")
    }
}

/// The walks and reads behind the Summary API's disk figures, on directories of the test.
@Suite struct DirectoryUsageTests {
    @Test func measureEqualsDuAndStatvfs() throws {
        let dir = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: dir.file("a/b"), withIntermediateDirectories: true)
        try Data(repeating: 3, count: 123_457).write(to: URL(fileURLWithPath: dir.file("a/b/file")))
        try Data(repeating: 4, count: 10).write(to: URL(fileURLWithPath: dir.file("a/small")))
        let usage = try #require(DirectoryUsage.measure(dir.path))
        let du = try CRIPodsTestsSupport.du(dir.path)
        #expect(usage.usedBytes == du.bytes && usage.inodesUsed == du.inodes && du.inodes == 5)
        let fs = try CRIPodsTestsSupport.statfs(dir.path)
        #expect(usage.capacityBytes == fs.capacity && usage.inodes == fs.inodes)
        #expect(DirectoryUsage.measure(dir.file("missing")) == nil)
    }

    @Test func writableLayerIsTheUpperDirectoryOfTheRootOverlay() throws {
        let root = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: root.file("proc/42"), withIntermediateDirectories: true)
        let mountinfo = """
            1 0 8:1 / / rw,relatime - ext4 /dev/sda1 rw
            900 1 0:77 / / rw,relatime - overlay overlay rw,lowerdir=/var/lib/containerd/s/1/fs,upperdir=/var/lib/containerd/s/9/fs,workdir=/var/lib/containerd/s/9/work
            901 900 0:78 / /proc rw - proc proc rw

            """
        try mountinfo.write(toFile: root.file("proc/42/mountinfo"), atomically: true, encoding: .utf8)
        #expect(DirectoryUsage.writableLayer(pid: 42, paths: HostPaths(root: root.path)) == "/var/lib/containerd/s/9/fs")
        try "1 0 8:1 / / rw - ext4 /dev/sda1 rw\n".write(toFile: root.file("proc/42/mountinfo"), atomically: true, encoding: .utf8)
        #expect(DirectoryUsage.writableLayer(pid: 42, paths: HostPaths(root: root.path)) == nil, "not an overlay")
        #expect(DirectoryUsage.writableLayer(pid: 43, paths: HostPaths(root: root.path)) == nil, "no such process")
    }
}
