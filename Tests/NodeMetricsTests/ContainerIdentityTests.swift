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
}
