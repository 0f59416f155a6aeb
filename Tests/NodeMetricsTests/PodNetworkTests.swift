import Foundation
import Testing
@testable import NodeMetrics

/// A pod's network as the kubelet and cAdvisor give it, on real dockerd and containerd pods laid out
/// as the kubelet lays them out (issue 15 part 1): a sandbox with the runtime's marker and two app
/// containers in its network namespace, under `/kubepods/burstable/pod<uid>/<64-hex id>`. The sandbox's
/// namespace gets a real interface (a veth pair with an address, traffic sent to it), and the pod's
/// network must be the sandbox's — once — in /metrics (both label modes), /stats/summary and
/// /metrics/resource.
extension RuntimeDaemons {
@Suite(.serialized) struct PodNetworkTests {
    let state = "/tmp/node-metrics-podnet-test-\(getpid())"
    let uid = UUID().uuidString.lowercased()
    var podCgroup: String { "/kubepods/burstable/pod\(uid)" }

    func script(_ name: String) throws -> (status: Int32, output: String) {
        try run("/usr/bin/env", ["STATE=\(state)", "bash", Package.root + "/scripts/runtimes/\(name)"])
    }

    @discardableResult
    func sh(_ command: String) throws -> String {
        let r = try run("/bin/bash", ["-c", command])
        if r.status != 0 { throw TestFailure("\(command): \(r.output)") }
        return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A veth pair whose inner end is `eth0` (10.250.<n>.2/30) in `pid`'s network namespace.
    struct SandboxInterface {
        let host: String
        let address: String

        init(pid: Int32, test: PodNetworkTests) throws {
            let n = Int.random(in: 1...250)
            host = "nmh\(getpid() % 100_000)"
            address = "10.250.\(n).2"
            let peer = "nmc\(getpid() % 100_000)"
            try test.sh("""
                ip link add \(host) type veth peer name \(peer)
                echo 1 > /proc/sys/net/ipv6/conf/\(host)/disable_ipv6 || true
                ip link set \(peer) netns \(pid)
                nsenter -t \(pid) -n sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6; ip link set \(peer) name eth0;
                  echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6; ip addr add \(address)/30 dev eth0; ip link set eth0 up' || true
                ip addr add 10.250.\(n).1/30 dev \(host)
                ip link set \(host) up
                """)
        }

        /// UDP datagrams to the sandbox's address (each also makes it answer: port unreachable).
        func sendTraffic(_ test: PodNetworkTests, packets: Int = 40) throws {
            try test.sh("for i in $(seq 1 \(packets)); do echo node-metrics-pod-network > /dev/udp/\(address)/9; done")
        }

        func remove() { _ = try? run("/usr/sbin/ip", ["link", "del", host]) }
    }

    /// eth0's receive and transmit bytes in `pid`'s network namespace, as the kernel counts them.
    func kernelCounters(pid: Int32) throws -> (rx: UInt64, tx: UInt64) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/net/dev", encoding: .utf8) else {
            throw TestFailure("the sandbox's process \(pid) is gone: \((try? sh("ctr -n k8s.io tasks ls; docker ps -a 2>/dev/null")) ?? "")")
        }
        let line = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix("eth0:") })
        let fields = line.split(separator: ":")[1].split(separator: " ").compactMap { UInt64($0) }
        return (fields[0], fields[8])
    }

    /// The samples of one family on /metrics: (labels, value).
    static func series(_ body: String, _ family: String) -> [(labels: String, value: Double)] {
        body.split(separator: "\n").compactMap { line in
            guard line.hasPrefix(family + "{"), let close = line.lastIndex(of: "}") else { return nil }
            let labels = String(line[line.index(after: line.firstIndex(of: "{")!)..<close])
            let value = line[line.index(after: close)...].split(separator: " ").first.flatMap { Double($0) }
            return value.map { (labels, $0) }
        }
    }

    /// The checks common to both runtimes, once the pod runs and its sandbox has an interface.
    func checkPod(sandbox: String, apps: [String], pid: Int32, interface: SandboxInterface) throws {
        let kubernetes = try RunningAgent(["-docker_only=false", "-podman=", "-crio=", "-prometheus_labels=kubernetes"])
        defer { kubernetes.child.stop() }
        let cadvisor = try RunningAgent(["-podman=", "-crio="])
        defer { cadvisor.child.stop() }
        // Every container of the pod named (metadata arrived), then traffic, then a quiet namespace.
        let named = try eventually(30) { () -> Bool? in
            let body = try kubernetes.get("/metrics").body
            return body.contains("container=\"POD\"") && body.contains("container=\"app1\"") && body.contains("container=\"app2\"") ? true : nil
        }
        try #require(named == true, "the sandbox and both app containers are named")
        try interface.sendTraffic(self)
        usleep(1_500_000)
        let kernel = try kernelCounters(pid: pid)
        #expect(kernel.rx > 1000 && kernel.tx > 0, "the sandbox's eth0 carried the traffic: \(kernel)")

        for (agent, podLabel) in [(kubernetes, "pod=\"web\""), (cadvisor, "container_label_io_kubernetes_pod_name=\"web\"")] {
            let settled = try eventually(20) { () -> String? in
                let body = try agent.get("/metrics").body
                let rx = Self.series(body, "container_network_receive_bytes_total").filter { $0.labels.contains(podLabel) }
                return rx.map(\.value).reduce(0, +) == Double(kernel.rx) ? body : nil
            }
            let body = try #require(settled, "\(podLabel): the per-pod sum equals the sandbox's eth0 (\(kernel.rx) bytes)")
            for family in ["container_network_receive_bytes_total", "container_network_transmit_bytes_total",
                           "container_network_receive_packets_total"] {
                let pod = Self.series(body, family).filter { $0.labels.contains(podLabel) }
                #expect(pod.count == 1 && pod.first?.labels.contains("id=\"\(sandbox)\"") == true,
                        "\(family): one series, the sandbox's: \(pod.map(\.labels))")
                for app in apps { #expect(!Self.series(body, family).contains { $0.labels.contains("id=\"\(app)\"") }, "\(family): none for \(app)") }
            }
            let tx = Self.series(body, "container_network_transmit_bytes_total").filter { $0.labels.contains(podLabel) }
            #expect(tx.map(\.value).reduce(0, +) == Double(kernel.tx))
            // The app containers' v1 spec: no network of their own.
            for app in apps {
                let info = try agent.json("/api/v1.3/containers\(app)")
                #expect((info?["spec"] as? [String: Any])?["has_network"] as? Bool == false, "\(app)")
            }
        }

        // /stats/summary: the pod's network is the sandbox's eth0 (read again: a late ARP or ICMP
        // packet moves it).
        typealias V = StatsV1Alpha1
        var last = ""
        var now = kernel
        let summary = try #require(try eventually { () -> V.PodStats? in
            last = try kubernetes.get("/stats/summary").body
            now = try kernelCounters(pid: pid)
            let s = try JSONDecoder().decode(V.Summary.self, from: Data(last.utf8))
            let pod = s.pods.first { $0.podRef.name == "web" }
            return pod?.network?.rxBytes == now.rx && pod?.network?.txBytes == now.tx && pod?.cpu?.usageNanoCores != nil ? pod : nil
        }, "the pod's network in /stats/summary is its sandbox's (\(now)): \(last)")
        #expect(summary.network?.interfaces?.map(\.name) == ["eth0"])
        #expect(summary.containers.map(\.name) == ["app1", "app2"], "the sandbox is not a container of the pod")
        #expect(summary.podRef.uid == uid && summary.podRef.namespace == "shop")
        // /metrics/resource: the pod and its two containers, the sandbox not among them.
        let resource = try kubernetes.get("/metrics/resource").body
        #expect(resource.contains("pod_cpu_usage_seconds_total{namespace=\"shop\",pod=\"web\"}"))
        #expect(resource.contains("container=\"app1\"") && resource.contains("container=\"app2\"") && !resource.contains("container=\"POD\""))
    }

    func removePodCgroups() {
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        for h in hierarchies {
            for dir in [podCgroup, "/kubepods/burstable", "/kubepods", "/k8s.io"] { rmdir("/sys/fs/cgroup/\(h)\(dir)") }
        }
        for dir in [podCgroup, "/kubepods/burstable", "/kubepods"] { rmdir("/sys/fs/cgroup\(dir)") }
    }

    /// dockershim's / cri-dockerd's layout: a `podsandbox` container and app containers run with
    /// `--network container:<sandbox>`, all under the pod's cgroup parent.
    @Test func dockerPodNetworkIsTheSandboxs() throws {
        let started = try script("docker-start.sh")
        try #require(started.status == 0, "\(started.output)")
        defer {
            _ = try? script("docker-stop.sh")
            removePodCgroups()
        }
        let pod = "--label io.kubernetes.pod.name=web --label io.kubernetes.pod.namespace=shop --label io.kubernetes.pod.uid=\(uid)"
        let prefix = "k8s-nm-\(getpid())"
        let sandbox = try sh("docker run -d --name \(prefix)_POD --cgroup-parent \(podCgroup) --network none " +
                             "--label io.kubernetes.docker.type=podsandbox --label io.kubernetes.container.name=POD \(pod) " +
                             "local/busybox:1 sleep 300")
        var apps: [String] = []
        for name in ["app1", "app2"] {
            apps.append(try sh("docker run -d --name \(prefix)_\(name) --cgroup-parent \(podCgroup) --network container:\(sandbox) " +
                               "--label io.kubernetes.docker.type=container --label io.kubernetes.container.name=\(name) \(pod) " +
                               "local/busybox:1 sleep 300"))
        }
        defer { _ = try? sh("docker rm -f \(prefix)_POD \(prefix)_app1 \(prefix)_app2") }
        #expect(([sandbox] + apps).allSatisfy { ContainerIdentity.isContainerID(Substring($0)) }, "64-hex ids")
        let pid = try #require(Int32(try sh("docker inspect -f '{{.State.Pid}}' \(sandbox)")))
        let interface = try SandboxInterface(pid: pid, test: self)
        defer { interface.remove() }
        try checkPod(sandbox: "\(podCgroup)/\(sandbox)", apps: apps.map { "\(podCgroup)/\($0)" }, pid: pid, interface: interface)
    }

    /// A Podman pod: its infra container holds the network, its members join it (Podman's
    /// Docker-compatible API says `NetworkMode: container:<infra id>`) and export none of their own.
    @Test func podmanPodNetworkIsTheInfraContainers() throws {
        let started = try script("podman-start.sh")
        try #require(started.status == 0, "\(started.output)")
        defer { _ = try? script("podman-stop.sh") }
        // Root here lacks CAP_SYS_RESOURCE: the infra container needs the same ulimits as the others.
        try "[containers]\ndefault_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n"
            .write(toFile: state + "/containers.conf", atomically: true, encoding: .utf8)
        /// conmon stays behind: the command's inherited descriptors are closed (`closingDescriptors`).
        func podman(_ args: [String]) throws -> String {
            let r = try run("/usr/bin/env", ["CONTAINERS_CONF=\(state)/containers.conf", "/usr/bin/podman",
                                             "--cgroup-manager=cgroupfs", "--events-backend=file"] + args, closingDescriptors: true)
            if r.status != 0 { throw TestFailure("podman \(args.joined(separator: " ")): \(r.output)") }
            return r.output.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let pod = "nm-pod-\(getpid())"
        _ = try podman(["pod", "create", "--name", pod, "--infra-image", "docker.io/local/busybox:1", "--infra-command", "sleep 300"])
        defer { _ = try? podman(["pod", "rm", "-f", "-t", "0", pod]) }
        let member = try podman(["run", "-d", "--pod", pod, "docker.io/local/busybox:1", "sleep", "300"])
            .split(separator: "\n").last.map(String.init) ?? ""
        let infra = try podman(["pod", "inspect", pod, "--format", "{{.InfraContainerID}}"])
        let podID = try podman(["pod", "inspect", pod, "--format", "{{.ID}}"])
        let (infraName, memberName) = ("/libpod_parent/\(podID)/libpod-\(infra)", "/libpod_parent/\(podID)/libpod-\(member)")
        let agent = try RunningAgent(["-docker=", "-containerd=", "-crio="])
        defer { agent.child.stop() }
        // Until Podman has answered, a container outside a Kubernetes pod layout keeps its network; the
        // first sample after the answer has none.
        let body = try #require(try eventually { () -> String? in
            let body = try agent.get("/metrics").body
            let named = try agent.json("/api/v1.3/containers\(memberName)")?["namespace"] as? String == "podman"
            let rx = Self.series(body, "container_network_receive_bytes_total")
            return named && rx.contains { $0.labels.contains("id=\"\(infraName)\"") }
                && !rx.contains { $0.labels.contains("id=\"\(memberName)\"") } ? body : nil
        }, "the infra container has the pod's network, the member none of its own")
        #expect(Self.series(body, "container_network_receive_bytes_total").first { $0.labels.contains("id=\"\(infraName)\"") }
            .map { $0.value > 0 } == true, "the infra's eth0 (Podman's bridge network) counted")
        let spec = try agent.json("/api/v1.3/containers\(memberName)")?["spec"] as? [String: Any]
        #expect(spec?["has_network"] as? Bool == false)
    }

    /// containerd's CRI layout: a sandbox (`io.cri-containerd.kind=sandbox`) and app containers
    /// (`kind=container`) joining its network namespace.
    @Test func containerdPodNetworkIsTheSandboxs() throws {
        let started = try script("containerd-start.sh")
        try #require(started.status == 0, "\(started.output)")
        defer {
            _ = try? script("containerd-stop.sh")
            removePodCgroups()
        }
        let id = { (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined() }
        let sandbox = id(), apps = [id(), id()]
        let pod = "--label io.kubernetes.pod.name=web --label io.kubernetes.pod.namespace=shop --label io.kubernetes.pod.uid=\(uid)"
        try sh("ctr -n k8s.io run -d --cgroup \(podCgroup)/\(sandbox) --label io.cri-containerd.kind=sandbox " +
               "--label io.kubernetes.container.name=POD \(pod) docker.io/local/busybox:1 \(sandbox) /bin/sleep 300")
        defer {
            for c in [sandbox] + apps {
                _ = try? sh("ctr -n k8s.io tasks kill -s SIGKILL \(c); sleep 0.3; ctr -n k8s.io tasks delete \(c); ctr -n k8s.io containers delete \(c)")
            }
        }
        let pid = try #require(Int32(try sh("ctr -n k8s.io tasks ls | awk '$1 == \"\(sandbox)\" { print $2 }'")))
        for (app, name) in zip(apps, ["app1", "app2"]) {
            try sh("ctr -n k8s.io run -d --cgroup \(podCgroup)/\(app) --with-ns network:/proc/\(pid)/ns/net " +
                   "--label io.cri-containerd.kind=container --label io.kubernetes.container.name=\(name) \(pod) " +
                   "docker.io/local/busybox:1 \(app) /bin/sleep 300")
        }
        let interface = try SandboxInterface(pid: pid, test: self)
        defer { interface.remove() }
        try checkPod(sandbox: "\(podCgroup)/\(sandbox)", apps: apps.map { "\(podCgroup)/\($0)" }, pid: pid, interface: interface)

        // -containerd-namespace: only that namespace is asked (empty: every one but moby).
        let every = try RunningAgent(["-docker=", "-podman=", "-crio=", "-containerd-namespace="])
        defer { every.child.stop() }
        let other = try RunningAgent(["-docker=", "-podman=", "-crio=", "-containerd-namespace=default"])
        defer { other.child.stop() }
        let path = "/api/v1.3/containers\(podCgroup)/\(sandbox)"
        #expect(try eventually { try every.json(path)?["namespace"] as? String == "containerd" ? true : nil } == true)
        usleep(1_000_000)
        #expect(try other.json(path)?["namespace"] == nil, "namespace default does not hold the pod")
        #expect(ContainerIdentity.parse("/team-a/\(sandbox)", containerdNamespace: "team-a")?.runtime == .containerd)
        #expect(ContainerIdentity.parse("/team-a/\(sandbox)") == nil)
    }
}
}
