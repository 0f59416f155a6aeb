/// The kubelet's `/pods` (a v1 PodList) built from what the runtimes report over CRI: one Pod per
/// pod uid, from its newest ready sandbox (else its newest), with the containers of all its
/// sandboxes grouped by name — the newest attempt is the container's status, its attempt number the
/// restart count, the one before it the last state.
///
/// Filled: metadata name, namespace, uid, creationTimestamp (the sandbox's creation), labels (the
/// sandbox's, without the three `io.kubernetes.pod.*` ones the kubelet adds) and annotations;
/// spec.containers (name, image), spec.nodeName, spec.hostNetwork; status.phase, podIP/podIPs,
/// startTime, containerStatuses (state with times and exit codes, lastState, ready and started = the
/// container runs, restartCount, image, imageID, containerID). What only the API server knows is
/// absent: resources, probes, volumes, owner references, conditions, QoS class, init containers
/// (they are containers like the others over CRI) and the host IP.
enum PodList {
    /// One runtime's answer and its container id scheme (`containerd`, `cri-o`).
    struct Source {
        var scheme: String
        var pods: [CRIClient.Pod]
    }

    static let kubeletPodLabels: Set<String> = [ContainerMetadata.podNameLabel, ContainerMetadata.podNamespaceLabel,
                                                ContainerMetadata.podUIDLabel]

    static func time(_ nanos: Int64) -> String { GoTime.rfc3339Seconds(nanosSinceEpoch: nanos) }

    static func write(_ sources: [Source], nodeName: String, to w: inout JSONWriter) {
        struct Item {
            var scheme: String
            var sandbox: Runtime_V1_PodSandboxStatus
            var containers: [Runtime_V1_ContainerStatus]
        }
        var byUID: [String: Item] = [:]
        for source in sources {
            for pod in source.pods {
                let uid = pod.sandbox.metadata.uid
                guard !uid.isEmpty else { continue }
                var item = byUID[uid] ?? Item(scheme: source.scheme, sandbox: pod.sandbox, containers: [])
                let current = item.sandbox
                let ready = pod.sandbox.state == .sandboxReady, currentReady = current.state == .sandboxReady
                if (ready && !currentReady) || (ready == currentReady && pod.sandbox.createdAt > current.createdAt) {
                    item.sandbox = pod.sandbox
                }
                item.containers += pod.containers
                byUID[uid] = item
            }
        }
        let items = byUID.values.sorted {
            ($0.sandbox.metadata.namespace, $0.sandbox.metadata.name) < ($1.sandbox.metadata.namespace, $1.sandbox.metadata.name)
        }
        w.beginObject()
        w.field("kind", "PodList")
        w.field("apiVersion", "v1")
        w.object("metadata") { _ in }
        w.array("items", items) { w, item in
            writePod(item.sandbox, containers: item.containers, scheme: item.scheme, nodeName: nodeName, &w)
        }
        w.endObject()
    }

    /// The containers of a pod by name, each as (newest attempt, the attempt before it).
    static func latest(_ containers: [Runtime_V1_ContainerStatus]) -> [(Runtime_V1_ContainerStatus, Runtime_V1_ContainerStatus?)] {
        var byName: [String: [Runtime_V1_ContainerStatus]] = [:]
        for c in containers { byName[c.metadata.name, default: []].append(c) }
        return byName.keys.sorted().compactMap { name in
            let attempts = (byName[name] ?? []).sorted {
                ($0.metadata.attempt, $0.createdAt) > ($1.metadata.attempt, $1.createdAt)
            }
            guard let newest = attempts.first else { return nil }
            return (newest, attempts.dropFirst().first)
        }
    }

    /// The kubelet's phase from what the runtime shows: Running while a container runs, Succeeded or
    /// Failed once all have exited (Failed if one exited non-zero), Pending otherwise.
    static func phase(sandbox: Runtime_V1_PodSandboxStatus, containers: [Runtime_V1_ContainerStatus]) -> String {
        if containers.isEmpty { return "Pending" }
        if sandbox.state == .sandboxReady && containers.contains(where: { $0.state == .containerRunning }) { return "Running" }
        if containers.allSatisfy({ $0.state == .containerExited }) {
            return containers.allSatisfy { $0.exitCode == 0 } ? "Succeeded" : "Failed"
        }
        return "Pending"
    }

    static func writeStringMap(_ key: String, _ m: [String: String], _ w: inout JSONWriter) {
        guard !m.isEmpty else { return }
        w.object(key) { w in
            for (k, v) in m.sorted(by: { $0.key < $1.key }) { w.field(k, v) }
        }
    }

    static func image(_ c: Runtime_V1_ContainerStatus) -> String {
        !c.image.userSpecifiedImage.isEmpty ? c.image.userSpecifiedImage : c.image.image
    }

    static func writePod(_ sandbox: Runtime_V1_PodSandboxStatus, containers all: [Runtime_V1_ContainerStatus], scheme: String,
                         nodeName: String, _ w: inout JSONWriter) {
        let containers = latest(all)
        let hostNetwork = sandbox.linux.namespaces.options.network == .node
        w.beginObject()
        w.object("metadata") { w in
            w.field("name", sandbox.metadata.name)
            w.field("namespace", sandbox.metadata.namespace)
            w.field("uid", sandbox.metadata.uid)
            w.field("creationTimestamp", time(sandbox.createdAt))
            writeStringMap("labels", sandbox.labels.filter { !kubeletPodLabels.contains($0.key) }, &w)
            writeStringMap("annotations", sandbox.annotations, &w)
        }
        w.object("spec") { w in
            w.array("containers", containers) { w, c in
                w.beginObject()
                w.field("name", c.0.metadata.name)
                w.field("image", image(c.0))
                w.object("resources") { _ in }
                w.endObject()
            }
            w.field("nodeName", nodeName)
            if hostNetwork { w.field("hostNetwork", true) }
        }
        w.object("status") { w in
            w.field("phase", phase(sandbox: sandbox, containers: containers.map { $0.0 }))
            let ips = sandbox.network.ip.isEmpty ? [] : [sandbox.network.ip] + sandbox.network.additionalIps.map(\.ip)
            if let first = ips.first {
                w.field("podIP", first)
                w.array("podIPs", ips) { w, ip in
                    w.beginObject()
                    w.field("ip", ip)
                    w.endObject()
                }
            }
            w.field("startTime", time(sandbox.createdAt))
            if !containers.isEmpty {
                w.array("containerStatuses", containers) { w, c in
                    let (status, previous) = c
                    let running = status.state == .containerRunning
                    w.beginObject()
                    w.field("name", status.metadata.name)
                    w.object("state") { w in writeState(status, scheme: scheme, &w) }
                    w.object("lastState") { w in
                        if let previous, previous.state == .containerExited { writeState(previous, scheme: scheme, &w) }
                    }
                    w.field("ready", running)
                    w.field("restartCount", Int64(status.metadata.attempt))
                    w.field("image", image(status))
                    w.field("imageID", !status.imageRef.isEmpty ? status.imageRef : status.imageID)
                    w.field("containerID", "\(scheme)://\(status.id)")
                    w.field("started", running)
                    w.endObject()
                }
            }
        }
        w.endObject()
    }

    /// ContainerState: running {startedAt}, terminated {exitCode, reason, message, startedAt,
    /// finishedAt, containerID} or waiting {reason}.
    static func writeState(_ c: Runtime_V1_ContainerStatus, scheme: String, _ w: inout JSONWriter) {
        switch c.state {
        case .containerRunning:
            w.object("running") { w in w.field("startedAt", time(c.startedAt)) }
        case .containerExited:
            w.object("terminated") { w in
                w.field("exitCode", Int64(c.exitCode))
                if !c.reason.isEmpty { w.field("reason", c.reason) }
                if !c.message.isEmpty { w.field("message", c.message) }
                w.field("startedAt", time(c.startedAt))
                w.field("finishedAt", time(c.finishedAt))
                w.field("containerID", "\(scheme)://\(c.id)")
            }
        default:
            w.object("waiting") { w in w.field("reason", c.state == .containerCreated ? "ContainerCreating" : "Unknown") }
        }
    }
}
