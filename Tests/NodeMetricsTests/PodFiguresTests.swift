import Foundation
import Testing
@testable import NodeMetrics

/// Pod figures as the kubelet gives them (issue 15 part 1), on a store laid out as the kubelet lays
/// out a pod: network from the sandbox only, cpu/memory from the `pod<uid>` cgroup even when a child
/// of the pod is called `podapp`.
@Suite struct PodFiguresTests {
    let scratch = SampleScratch()
    static let uid = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
    static let sandboxID = String(repeating: "a1", count: 32), appID = String(repeating: "b2", count: 32)

    /// The CRI labels of a pod's container, as containerd's CRI plugin sets them.
    static func labels(_ container: String?, kind: String) -> [String: String] {
        var l = [ContainerMetadata.podNameLabel: "web", ContainerMetadata.podNamespaceLabel: "shop",
                 ContainerMetadata.podUIDLabel: uid, "io.cri-containerd.kind": kind]
        if let container { l[ContainerMetadata.containerNameLabel] = container }
        return l
    }

    @Test func sandboxMarkersOfEveryRuntime() {
        func derived(_ labels: [String: String]) -> ContainerMetadata {
            var m = ContainerMetadata()
            m.labels = labels
            m.deriveKubernetesIdentity()
            return m
        }
        let pod = [ContainerMetadata.podNameLabel: "web", ContainerMetadata.podUIDLabel: Self.uid]
        // containerd, dockershim / cri-dockerd, CRI-O: the sandbox is POD and owns the network.
        for sandbox in [["io.cri-containerd.kind": "sandbox"], ["io.kubernetes.docker.type": "podsandbox"],
                        [ContainerMetadata.containerNameLabel: "POD"]] {
            let m = derived(pod.merging(sandbox) { a, _ in a })
            #expect(m.containerName == "POD" && !m.sharesNetwork, "\(sandbox)")
        }
        for app in [["io.cri-containerd.kind": "container", ContainerMetadata.containerNameLabel: "app"],
                    ["io.kubernetes.docker.type": "container", ContainerMetadata.containerNameLabel: "app"],
                    [ContainerMetadata.containerNameLabel: "app"]] {
            let m = derived(pod.merging(app) { a, _ in a })
            #expect(m.containerName == "app" && m.sharesNetwork, "\(app)")
        }
        #expect(!derived(["app": "demo"]).sharesNetwork, "a plain container has its own network")
    }

    @Test func podNetworkIsTheSandboxsAndCPUThePodCgroups() throws {
        let store = ContainerStore()
        let spec = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/abc").spec(using: scratch)
        let base = try CgroupHandle(hierarchy: Fixtures.v1Hierarchy(), name: "/docker/abc").sample(using: scratch)
        let pod = "/kubepods/burstable/pod\(Self.uid)"
        let names = [pod, pod + "/podapp", pod + "/\(Self.sandboxID)", pod + "/\(Self.appID)"]
        for n in names { store.add(n, spec: spec, creationTimeNanos: 1) }
        for (name, container, kind) in [(names[2], nil as String?, "sandbox"), (names[3], "app", "container")] {
            var m = ContainerMetadata()
            m.runtime = "containerd"
            m.labels = Self.labels(container, kind: kind)
            m.deriveKubernetesIdentity()
            store.updateMetadata(name, m)
        }
        let eth0 = NetInterfaceStats(name: "eth0", rxBytes: 1000, rxPackets: 10, rxErrors: 0, rxDropped: 0,
                                     txBytes: 2000, txPackets: 20, txErrors: 0, txDropped: 0)
        for (i, name) in names.enumerated() {
            for t in [Int64(1_000_000_000), 2_000_000_000] {
                var s = base
                s.timestampNanos = t
                s.cpu.usage.total = UInt64(i + 1) * UInt64(t) // pod cgroup 1 core, podapp 2, ...
                if name == names[2] { s.network = [eth0] }
                store.append(name, sample: s)
            }
        }
        let view = KubeletView(store: store)
        let p = try #require(view.pods.first)
        #expect(view.pods.count == 1 && p.name == "web" && p.uid == Self.uid)
        #expect(p.cgroup?.name == pod, "the pod cgroup, not its child podapp")
        #expect(p.sandbox?.name == names[2])
        #expect(p.containers.map(\.name) == ["app"])
        var w = JSONWriter()
        KubeletSummary.write(view, node: .init(name: "n", bootTimeNanos: 0, machine: MachineInfo()), onlyCPUAndMemory: false, to: &w)
        let summary = try JSONDecoder().decode(StatsV1Alpha1.Summary.self, from: Data(w.string.utf8))
        let stats = try #require(summary.pods.first)
        #expect(stats.cpu?.usageNanoCores == 1_000_000_000, "1 core: the pod cgroup's rate, not podapp's 2")
        #expect(stats.network?.rxBytes == 1000 && stats.network?.txBytes == 2000, "the sandbox's eth0")
    }
}
