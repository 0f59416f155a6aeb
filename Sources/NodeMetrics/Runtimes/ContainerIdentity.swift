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
        s.includes("\\") ? s.decodingHexEscapes(marker: "\\x") : String(s)
    }

    /// A pod uid as the kubelet writes it: a UUID (8-4-4-4-12 lowercase hex) or, for static pods, the
    /// 32-hex hash of their manifest.
    static func isPodUID(_ s: some StringProtocol) -> Bool {
        let bytes = Array(s.utf8)
        func hex(_ b: UInt8) -> Bool { (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66) }
        if bytes.count == 32 { return bytes.allSatisfy(hex) }
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) { guard b == 0x2d else { return false } } else if !hex(b) { return false }
        }
        return true
    }

    /// The pod uid a path component names when it is a pod cgroup, nil otherwise: `pod<uid>` (cgroupfs)
    /// or `kubepods-pod<uid>.slice` / `kubepods-<qos>-pod<uid>.slice` (systemd, the uid's dashes written
    /// as underscores). `podapp` or `pod<uid>x` are not pod cgroups.
    static func podUID(ofComponent unit: String) -> String? {
        if unit.hasSuffix(".slice") {
            let parts = unit.dropLast(".slice".count).split(separator: "-", omittingEmptySubsequences: false)
            guard parts.first == "kubepods", let last = parts.last, last.hasPrefix("pod"),
                  parts.count == 2 || (parts.count == 3 && ["burstable", "besteffort"].contains(parts[1])) else { return nil }
            let uid = String(last.dropFirst(3)).replacing("_", with: "-")
            return isPodUID(uid) ? uid : nil
        }
        guard unit.hasPrefix("pod") else { return nil }
        let uid = unit.dropFirst(3)
        return isPodUID(uid) ? String(uid) : nil
    }

    /// The pod uid and QoS class of a kubepods path, from its pod component (nil outside kubepods or
    /// above the pod).
    public static func pod(of name: String) -> (uid: String, qosClass: String)? {
        let parts = name.split(separator: "/").map(unescape)
        guard parts.first == "kubepods" || parts.first == "kubepods.slice" else { return nil }
        guard let i = parts.firstIndex(where: { podUID(ofComponent: $0) != nil }),
              let uid = podUID(ofComponent: parts[i]) else { return nil }
        var qos = "guaranteed"
        if parts[..<i].contains(where: { $0.includes("burstable") }) || parts[i].includes("-burstable-") { qos = "burstable" }
        if parts[..<i].contains(where: { $0.includes("besteffort") }) || parts[i].includes("-besteffort-") { qos = "besteffort" }
        return (uid, qos)
    }

    /// The pod-level cgroup at or above a kubepods path (`/kubepods/burstable/pod<uid>` for
    /// `/kubepods/burstable/pod<uid>/<id>` and for itself); nil outside kubepods. Only a component that
    /// is `pod` + a pod uid counts: `/kubepods/burstable/pod<uid>/podapp` belongs to `pod<uid>`.
    public static func podCgroup(of name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = parts.first, first == "kubepods" || first == "kubepods.slice",
              let i = parts.firstIndex(where: { podUID(ofComponent: unescape($0)) != nil }) else { return nil }
        return "/" + parts[...i].joined(separator: "/")
    }

    /// The identity of a container cgroup, or nil for anything else (slices, pods, conmon scopes, raw cgroups).
    /// containerd puts a namespace's containers under `/<namespace>/<id>` (cgroupfs): `k8s.io`,
    /// `containerd` and `containerdNamespace` count as containerd's.
    public static func parse(_ name: String, containerdNamespace: String = "k8s.io") -> ContainerIdentity? {
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
        case let parent where !containerdNamespace.isEmpty && parent == containerdNamespace: return make(.containerd, last)
        case "libpod_parent", "machine.slice": return make(.podman, last)
        default: return pod != nil ? make(nil, last) : nil
        }
    }
}
