import Testing
@testable import NodeMetrics

@Suite struct ContainerIdentityTests {
    let id = String(repeating: "ab12", count: 16)
    let uid = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

    @Test func everyLayoutOfBothDrivers() {
        let u = uid.replacing("-", with: "_")
        let cases: [(String, ContainerIdentity?)] = [
            ("/docker/\(id)", .init(runtime: .docker, id: id)),
            ("/system.slice/docker-\(id).scope", .init(runtime: .docker, id: id)),
            ("/k8s.io/\(id)", .init(runtime: .containerd, id: id)),
            ("/kubepods/burstable/pod\(uid)/\(id)", .init(runtime: nil, id: id, podUID: uid, qosClass: "burstable")),
            ("/kubepods/pod\(uid)/\(id)", .init(runtime: nil, id: id, podUID: uid, qosClass: "guaranteed")),
            ("/kubepods/besteffort/pod\(uid)/\(id)", .init(runtime: nil, id: id, podUID: uid, qosClass: "besteffort")),
            ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice/cri-containerd-\(id).scope",
             .init(runtime: .containerd, id: id, podUID: uid, qosClass: "burstable")),
            ("/kubepods.slice/kubepods-pod\(u).slice/crio-\(id).scope", .init(runtime: .crio, id: id, podUID: uid, qosClass: "guaranteed")),
            ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice/docker-\(id).scope",
             .init(runtime: .docker, id: id, podUID: uid, qosClass: "besteffort")),
            ("/machine.slice/libpod-\(id).scope", .init(runtime: .podman, id: id)),
            ("/libpod_parent/libpod-\(id)", .init(runtime: .podman, id: id)),
            ("/system.slice/docker\\x2d\(id).scope", .init(runtime: .docker, id: id)),
            // Not containers.
            ("/machine.slice/libpod-conmon-\(id).scope", nil), ("/kubepods.slice/kubepods-pod\(u).slice/crio-conmon-\(id).scope", nil),
            ("/kubepods/burstable/pod\(uid)", nil), ("/kubepods/burstable", nil), ("/docker", nil), ("/", nil),
            ("/user.slice/\(id)", nil), ("/docker/\(id.uppercased())", nil), ("/docker/abc", nil),
        ]
        for (name, want) in cases { #expect(ContainerIdentity.parse(name) == want, "\(name)") }
    }

    @Test func podCgroups() {
        #expect(ContainerIdentity.pod(of: "/kubepods/burstable/pod\(uid)")! == (uid, "burstable"))
        let u = uid.replacing("-", with: "_")
        #expect(ContainerIdentity.pod(of: "/kubepods.slice/kubepods-pod\(u).slice")! == (uid, "guaranteed"))
        #expect(ContainerIdentity.pod(of: "/docker/\(id)") == nil)
        #expect(ContainerIdentity.pod(of: "/kubepods/burstable") == nil)
    }

    /// A pod cgroup is `pod` + a pod uid (UUID, or the 32-hex hash of a static pod), for both drivers;
    /// a child whose name starts with "pod" is not one (issue 15).
    @Test func podCgroupIsPodPlusAUIDOnly() {
        let u = uid.replacing("-", with: "_")
        let hash = String(repeating: "0123456789abcdef", count: 2)
        let cases: [(String, String?)] = [
            ("/kubepods/burstable/pod\(uid)", "/kubepods/burstable/pod\(uid)"),
            ("/kubepods/burstable/pod\(uid)/\(id)", "/kubepods/burstable/pod\(uid)"),
            ("/kubepods/burstable/pod\(uid)/podapp", "/kubepods/burstable/pod\(uid)"),
            ("/kubepods/burstable/pod\(uid)/podapp/pod\(uid)", "/kubepods/burstable/pod\(uid)"),
            ("/kubepods/pod\(hash)/\(id)", "/kubepods/pod\(hash)"),
            ("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice/cri-containerd-\(id).scope",
             "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(u).slice"),
            ("/kubepods.slice/kubepods-pod\(u).slice", "/kubepods.slice/kubepods-pod\(u).slice"),
            ("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice/podapp.slice",
             "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice"),
            // Not pod cgroups.
            ("/kubepods/burstable/podapp", nil), ("/kubepods/burstable/pod\(uid)x", nil), ("/kubepods/burstable/pod", nil),
            ("/kubepods/burstable/pod\(uid.uppercased())", nil), ("/kubepods/burstable/pod1234", nil),
            ("/kubepods.slice/kubepods-podapp.slice", nil), ("/kubepods.slice/kubepods-other-pod\(u).slice", nil),
            ("/kubepods.slice/kubepods-burstable-pod\(uid).slice", nil), // dashes inside a slice name: not the kubelet's
            ("/system.slice/pod\(uid)", nil), ("/kubepods", nil), ("/", nil),
        ]
        for (name, want) in cases { #expect(ContainerIdentity.podCgroup(of: name) == want, "\(name)") }
        #expect(ContainerIdentity.pod(of: "/kubepods/burstable/podapp/\(id)") == nil)
        #expect(ContainerIdentity.pod(of: "/kubepods/burstable/pod\(uid)/podapp")! == (uid, "burstable"))
        #expect(ContainerIdentity.pod(of: "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(u).slice")! == (uid, "besteffort"))
        #expect(ContainerIdentity.parse("/kubepods/burstable/podapp/\(id)") == nil, "no pod: a raw cgroup")
    }
}
