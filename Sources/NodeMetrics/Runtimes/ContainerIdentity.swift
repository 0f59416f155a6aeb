/// What a cgroup's name says about its container: which runtime made it, the container id, and for
/// Kubernetes the pod uid and QoS class — for both cgroup drivers (cgroupfs: `/kubepods/burstable/
/// pod<uid>/<id>`; systemd: `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/
/// cri-containerd-<id>.scope`, where the uid's dashes are written as underscores and unit names may
/// carry `\xNN` escapes).
public struct ContainerIdentity: Sendable, Equatable {
    public enum Runtime: String, Sendable, CaseIterable {
        case docker, containerd, crio, podman
    }

    /// nil when only the layout says "a container" (a cgroupfs kubepods leaf: any CRI runtime).
    public var runtime: Runtime?
    /// The 64-hex container id.
    public var id: String
    /// The pod's uid with its dashes, for containers and pods under kubepods.
    public var podUID: String?
    /// "guaranteed", "burstable" or "besteffort" under kubepods.
    public var qosClass: String?

    public init(runtime: Runtime?, id: String, podUID: String? = nil, qosClass: String? = nil) {
        self.runtime = runtime
        self.id = id
        self.podUID = podUID
        self.qosClass = qosClass
    }

    static func isContainerID(_ s: Substring) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// systemd unit-name unescaping: `\x2d` → `-`.
    static func unescape(_ s: Substring) -> String {
        s.contains("\\") ? s.decodingHexEscapes(marker: "\\x") : String(s)
    }

    /// The pod uid and QoS class of a kubepods path, from its `pod<uid>` component (nil outside kubepods).
    public static func pod(of name: String) -> (uid: String, qosClass: String)? {
        let parts = name.split(separator: "/").map(unescape)
        guard parts.first == "kubepods" || parts.first == "kubepods.slice" else { return nil }
        var qos = "guaranteed"
        if parts.contains(where: { $0.contains("burstable") }) { qos = "burstable" }
        if parts.contains(where: { $0.contains("besteffort") }) { qos = "besteffort" }
        for p in parts {
            if p.hasSuffix(".slice"), let r = p.firstRange(of: "-pod") {
                // kubepods-burstable-pod<uid_with_underscores>.slice
                let uid = p[r.upperBound...].dropLast(".slice".count)
                return (String(uid).replacing("_", with: "-"), qos)
            }
            if p.hasPrefix("pod"), p.count > 3, !p.hasSuffix(".slice") { return (String(p.dropFirst(3)), qos) }
        }
        return nil
    }

    /// The pod-level cgroup above a container of a kubepods path (`/kubepods/burstable/pod<uid>` for
    /// `/kubepods/burstable/pod<uid>/<id>`); nil outside kubepods.
    public static func podCgroup(of name: String) -> String? {
        guard pod(of: name) != nil else { return nil }
        var parts = name.split(separator: "/", omittingEmptySubsequences: true)
        while let last = parts.last {
            let unit = unescape(last)
            if (unit.hasPrefix("pod") && !unit.hasSuffix(".slice")) || (unit.hasSuffix(".slice") && unit.contains("-pod")) {
                return "/" + parts.joined(separator: "/")
            }
            parts.removeLast()
        }
        return nil
    }

    /// The identity of a container cgroup, or nil for anything else (slices, pods, conmon scopes, raw cgroups).
    public static func parse(_ name: String) -> ContainerIdentity? {
        let parts = name.split(separator: "/")
        guard let last = parts.last.map({ Substring(unescape($0)) }) else { return nil }
        let pod = pod(of: name)
        func make(_ runtime: Runtime?, _ id: Substring) -> ContainerIdentity? {
            guard isContainerID(id) else { return nil }
            return ContainerIdentity(runtime: runtime, id: String(id), podUID: pod?.uid, qosClass: pod?.qosClass)
        }
        // systemd driver scopes.
        let scopes: [(String, Runtime)] = [("docker-", .docker), ("cri-containerd-", .containerd), ("crio-", .crio),
                                           ("libpod-", .podman)]
        for (prefix, runtime) in scopes where last.hasPrefix(prefix) {
            var id = last.dropFirst(prefix.count)
            if id.hasSuffix(".scope") { id = id.dropLast(".scope".count) }
            return make(runtime, id) // "crio-conmon-<id>", "libpod-conmon-<id>": not an id, nil
        }
        // cgroupfs driver: the parent says which runtime.
        guard isContainerID(last), parts.count >= 2 else { return nil }
        switch parts[parts.count - 2] {
        case "docker": return make(.docker, last)
        case "k8s.io", "containerd": return make(.containerd, last)
        case "libpod_parent", "machine.slice": return make(.podman, last)
        default: return pod != nil ? make(nil, last) : nil
        }
    }
}
