/// The store as the kubelet sees it (its cAdvisor stats provider): the node is the root cgroup, the
/// system containers are configured cgroups, and pods are grouped from the runtimes' CRI labels —
/// a pod's containers by `io.kubernetes.container.name` (the sandbox, POD, only lends the pod its
/// network), its own cpu/memory/swap from the `pod<uid>` cgroup. Each container carries its two newest
/// samples, from which usageNanoCores is computed.
public struct KubeletView: Sendable {
    /// One container: its name in the pod and its snapshot (two newest samples).
    public struct Container: Sendable {
        public var name: String
        public var snapshot: ContainerSnapshot
        /// Its rootfs and logs as LayerUsage last measured them.
        public var disk: KubeletDiskUsage?
    }

    public struct Pod: Sendable {
        public var name: String
        public var namespace: String
        public var uid: String
        /// The pod's start: its sandbox's creation, else its cgroup's, else its oldest container's.
        public var startNanos: Int64
        public var containers: [Container]
        /// The `pod<uid>` cgroup.
        public var cgroup: ContainerSnapshot?
        /// The sandbox (POD) container: the pod's network.
        public var sandbox: ContainerSnapshot?
    }

    /// The kubelet's system containers (`kubelet`, `runtime`, `misc`, `pods`) and their cgroups.
    public struct SystemContainers: Sendable, Equatable {
        public var kubelet = ""
        public var runtime = ""
        public var misc = ""
        /// The pod cgroup root; empty: `/kubepods` or `/kubepods.slice`, whichever exists.
        public var pods = ""
        public init() {}
    }

    public var root: ContainerSnapshot?
    public var systemContainers: [(name: String, snapshot: ContainerSnapshot)]
    public var pods: [Pod]

    public init(store: ContainerStore, systemContainers configured: SystemContainers = SystemContainers()) {
        root = store.snapshot("/", count: 2)
        var system: [(String, ContainerSnapshot)] = []
        let podRoot = !configured.pods.isEmpty ? configured.pods : (store.contains("/kubepods") ? "/kubepods" : "/kubepods.slice")
        for (name, cgroup) in [("kubelet", configured.kubelet), ("runtime", configured.runtime), ("misc", configured.misc),
                               ("pods", podRoot)] where !cgroup.isEmpty {
            if let s = store.snapshot(cgroup, count: 2), !s.samples.isEmpty { system.append((name, s)) }
        }
        systemContainers = system

        struct Key: Hashable { var namespace: String; var name: String }
        var pods: [Key: Pod] = [:]
        var podCgroups: [String: ContainerSnapshot] = [:] // by pod uid
        var order: [Key] = []
        for name in store.names {
            guard let meta = store.metadata(name) else { continue }
            if meta.runtime.isEmpty {
                // A pod-level cgroup (`pod<uid>` last): the pod's own cpu/memory/swap.
                if let uid = ContainerIdentity.pod(of: name)?.uid, ContainerIdentity.podCgroup(of: name) == name,
                   let s = store.snapshot(name, count: 2) {
                    podCgroups[uid] = s
                }
                continue
            }
            guard !meta.podName.isEmpty, !meta.podNamespace.isEmpty, !meta.containerName.isEmpty,
                  !name.hasSuffix(".mount"), let s = store.snapshot(name, count: 2), !s.samples.isEmpty else { continue }
            let key = Key(namespace: meta.podNamespace, name: meta.podName)
            if pods[key] == nil { order.append(key) }
            var pod = pods[key] ?? Pod(name: meta.podName, namespace: meta.podNamespace, uid: meta.podUID,
                                       startNanos: 0, containers: [], cgroup: nil, sandbox: nil)
            if pod.uid.isEmpty { pod.uid = meta.podUID }
            if meta.containerName == "POD" {
                pod.sandbox = s
            } else if let i = pod.containers.firstIndex(where: { $0.name == meta.containerName }) {
                // Restarts leave several cgroups per container: the newest wins, as in the kubelet.
                if s.creationTimeNanos > pod.containers[i].snapshot.creationTimeNanos {
                    pod.containers[i] = Container(name: meta.containerName, snapshot: s, disk: store.kubeletDisk(name))
                }
            } else {
                pod.containers.append(Container(name: meta.containerName, snapshot: s, disk: store.kubeletDisk(name)))
            }
            pods[key] = pod
        }
        self.pods = order.compactMap { key in
            guard var pod = pods[key] else { return nil } // every key in `order` was stored above
            pod.cgroup = podCgroups[pod.uid]
            pod.containers.sort { $0.name < $1.name }
            pod.startNanos = pod.sandbox?.creationTimeNanos ?? pod.cgroup?.creationTimeNanos
                ?? pod.containers.map(\.snapshot.creationTimeNanos).min() ?? 0
            return pod
        }.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
    }

    /// CPU usage in nanocores between the two newest samples; nil with fewer than two.
    public static func usageNanoCores(_ s: ContainerSnapshot) -> UInt64? {
        guard s.samples.count >= 2 else { return nil }
        let a = s.samples[s.samples.count - 2], b = s.samples[s.samples.count - 1]
        return CAdvisorV2Stats.rate(a.cpu.usage.total, b.cpu.usage.total, b.timestampNanos.saturatingSubtract(a.timestampNanos))
    }
}
