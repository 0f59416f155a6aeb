import Foundation
import Testing
@testable import NodeMetrics

/// Checks that need what nearly every Kubernetes node runs and this development machine does not: a
/// pure cgroup v2 host with systemd as PID 1, systemd-driver cgroup names, Docker and containerd on
/// the systemd driver. They run in the VM guest of `scripts/vm-test.sh` (disabled elsewhere, by name).
/// Every figure the agent serves is compared with the kernel file read around it: a cumulative
/// counter lies between a read before the sample and a read after it, a gauge within a tolerance.
@Suite(.serialized, .enabled(if: HostCgroups.isV2 && HostCgroups.systemdIsInit), .timeLimit(.minutes(20)))
struct V2SystemdHostTests {
    static let root = "/sys/fs/cgroup"
    /// cAdvisor v0.36's default kinds plus `process` and `hugetlb` (pids and hugetlb files are read).
    static let agentFlags = ["-housekeeping_interval=1s",
                             "-disable_metrics=advtcp,cpu_topology,cpuset,memory_numa,referenced_memory,resctrl,sched,tcp,udp"]

    // MARK: helpers

    @discardableResult
    static func sh(_ script: String) throws -> String {
        let r = try run("/bin/sh", ["-c", script])
        guard r.status == 0 else { throw TestFailure("`\(script)` exited \(r.status): \(r.output)") }
        return r.output
    }

    /// The cgroup (v2 name) of a process, from `/proc/<pid>/cgroup`.
    static func cgroup(of pid: Int32) -> String? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/cgroup", encoding: .utf8) else { return nil }
        return text.split(separator: "\n").first { $0.hasPrefix("0::") }.map { String($0.dropFirst(3)) }
    }

    /// A number from a kernel file of `cgroup`: the whole file, or the value of `key` in a keyed file.
    static func kernel(_ cgroup: String, _ file: String, _ key: String? = nil) throws -> UInt64 {
        let text = try String(contentsOfFile: root + cgroup + "/" + file, encoding: .utf8)
        guard let key else {
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return t == "max" ? UInt64.max : try #require(UInt64(t), "\(file): \(t)")
        }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.first.map(String.init) == key, parts.count >= 2 { return try #require(UInt64(parts[1])) }
        }
        throw TestFailure("\(file) has no \(key)")
    }

    /// Sum of `key` (rbytes, wbytes, rios, wios) over every device line of `io.stat`.
    static func ioStat(_ cgroup: String, _ key: String) throws -> UInt64 {
        let text = try String(contentsOfFile: root + cgroup + "/io.stat", encoding: .utf8)
        var sum: UInt64 = 0
        for field in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) where field.hasPrefix(key + "=") {
            sum += UInt64(field.dropFirst(key.count + 1)) ?? 0
        }
        return sum
    }

    /// `total=` of the `some` line of a pressure file, in µs.
    static func pressureTotal(_ cgroup: String, _ file: String) throws -> UInt64 {
        let text = try String(contentsOfFile: root + cgroup + "/" + file, encoding: .utf8)
        let some = try #require(text.split(separator: "\n").first { $0.hasPrefix("some ") })
        let total = try #require(some.split(separator: " ").first { $0.hasPrefix("total=") })
        return try #require(UInt64(total.dropFirst(6)))
    }

    /// The latest v1 ContainerStats of `name` taken after `after` (ns since the epoch), waiting for
    /// the second such sample so that its files were certainly read after `after`.
    static func statsTaken(after: Int64, of name: String, agent: RunningAgent) throws -> [String: Any] {
        let found = eventually(60) { () -> [String: Any]? in
            guard let info = try? agent.json("/api/v1.3/containers\(name)"),
                  let stats = info["stats"] as? [[String: Any]] else { return nil }
            let later = stats.filter { ($0["timestamp"] as? String).flatMap(GoTime.parseRFC3339).map { $0 > after } ?? false }
            return later.count >= 2 ? later.last : nil
        }
        return try #require(found, "two samples of \(name) after the first kernel read")
    }

    static func nowNanos() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    static func number(_ object: [String: Any]?, _ path: String...) -> UInt64? {
        var value: Any? = object
        for key in path { value = (value as? [String: Any])?[key] }
        return (value as? NSNumber)?.uint64Value
    }

    /// The value of the one series of `family` whose labels contain every one of `labels`.
    static func metric(_ text: String, _ family: String, _ labels: [String]) -> Double? {
        let lines = text.split(separator: "\n").filter { ($0.hasPrefix(family + "{") || $0.hasPrefix(family + " ")) && labels.allSatisfy($0.contains) }
        guard lines.count == 1, let line = lines.first else { return nil }
        let afterLabels = line.lastIndex(of: "}").map { line[line.index(after: $0)...] } ?? line.drop(while: { $0 != " " })
        return afterLabels.split(separator: " ").first.flatMap { Double($0) }
    }

    /// A gauge read by the agent and by the test a moment apart: equal within `fraction` or `slack` bytes.
    static func close(_ agent: UInt64?, _ kernel: UInt64, fraction: Double = 0.10, slack: UInt64 = 4 << 20) -> Bool {
        guard let agent else { return false }
        let diff = agent > kernel ? agent - kernel : kernel - agent
        return diff <= slack || Double(diff) <= fraction * Double(kernel)
    }

    /// A transient scope made by `systemd-run --scope` with `properties`, running `script`; its
    /// cgroup name once systemd has moved it there. The caller stops the unit.
    static func scope(_ unit: String, _ properties: [String], _ script: String) throws -> (ChildProcess, String) {
        let child = try ChildProcess("/usr/bin/systemd-run",
                                     ["--quiet", "--scope", "--unit=\(unit)"] + properties.flatMap { ["-p", $0] } + ["/bin/sh", "-c", script])
        let name = eventually(30) { () -> String? in
            let c = cgroup(of: child.process.processIdentifier)
            return c?.hasSuffix("/\(unit).scope") == true ? c : nil
        }
        return (child, try #require(name, "\(unit).scope: \(child.process.isRunning ? "" : child.log)"))
    }

    static func stopUnit(_ unit: String) {
        _ = try? run("/bin/systemctl", ["stop", unit])
        _ = try? run("/bin/systemctl", ["reset-failed", unit])
    }

    // MARK: a transient scope with limits

    @Test func aTransientScopeWithLimitsFollowsTheKernelFiles() throws {
        let unit = "nm-limits-\(getpid())"
        defer { V2SystemdHostTests.stopUnit(unit + ".scope") }
        // Reads 8 MB from the disk past the page cache, holds 20 MB of anonymous memory, then spins.
        let (child, name) = try Self.scope(unit, ["MemoryMax=96M", "CPUQuota=30%", "TasksMax=40", "AllowedCPUs=0", "MemoryMin=8M"],
            #"dd if=/dev/vda of=/dev/null bs=64k count=128 iflag=direct 2>/dev/null; x=$(head -c 20000000 /dev/zero | tr "\0" a); while :; do :; done"#)
        defer { V2SystemdHostTests.stopUnit(unit + ".scope"); child.stop() }
        #expect(name == "/system.slice/\(unit).scope")
        let agent = try RunningAgent(Self.agentFlags)
        defer { agent.child.stop() }

        // Cumulative counters: between a kernel read before the sample and one after it.
        // Settled: the 20 MB are held and only the spinning shell is left (the gauges must not move).
        _ = eventually(60) { () -> Bool? in
            guard let memory = try? Self.kernel(name, "memory.current"), let tasks = try? Self.kernel(name, "pids.current") else { return nil }
            return memory > 20_000_000 && tasks == 1 ? true : nil
        }
        let before = (cpu: try Self.kernel(name, "cpu.stat", "usage_usec"), user: try Self.kernel(name, "cpu.stat", "user_usec"),
                      throttled: try Self.kernel(name, "cpu.stat", "nr_throttled"), read: try Self.ioStat(name, "rbytes"),
                      reads: try Self.ioStat(name, "rios"), cpuPressure: try Self.pressureTotal(name, "cpu.pressure"))
        let t0 = Self.nowNanos()
        let stats = try Self.statsTaken(after: t0, of: name, agent: agent)
        let after = (cpu: try Self.kernel(name, "cpu.stat", "usage_usec"), user: try Self.kernel(name, "cpu.stat", "user_usec"),
                     throttled: try Self.kernel(name, "cpu.stat", "nr_throttled"), read: try Self.ioStat(name, "rbytes"),
                     reads: try Self.ioStat(name, "rios"), cpuPressure: try Self.pressureTotal(name, "cpu.pressure"))
        let cpu = try #require(Self.number(stats, "cpu", "usage", "total"))
        #expect((before.cpu * 1000...after.cpu * 1000).contains(cpu), "cpu.stat usage_usec ×1000")
        let user = try #require(Self.number(stats, "cpu", "usage", "user"))
        #expect((before.user * 1000...after.user * 1000).contains(user))
        let throttled = try #require(Self.number(stats, "cpu", "cfs", "throttled_periods"))
        #expect((before.throttled...after.throttled).contains(throttled), "30 % quota: the spinning shell is throttled")
        #expect(before.throttled > 0)
        let diskio = stats["diskio"] as? [String: Any]
        let readBytes = ((diskio?["io_service_bytes"] as? [[String: Any]]) ?? []).compactMap { Self.number($0, "stats", "Read") }.reduce(0, +)
        #expect((before.read...after.read).contains(readBytes) && readBytes >= 8 << 20, "io.stat rbytes: \(readBytes)")
        let reads = ((diskio?["io_serviced"] as? [[String: Any]]) ?? []).compactMap { Self.number($0, "stats", "Read") }.reduce(0, +)
        #expect((before.reads...after.reads).contains(reads) && reads >= 128, "io.stat rios: \(reads)")

        // Gauges: memory.current, anon, file, working set, pids — within a tolerance of a read just after.
        let memory = stats["memory"] as? [String: Any]
        let current = try Self.kernel(name, "memory.current"), anon = try Self.kernel(name, "memory.stat", "anon")
        let file = try Self.kernel(name, "memory.stat", "file"), inactiveFile = try Self.kernel(name, "memory.stat", "inactive_file")
        let pidsCurrent = try Self.kernel(name, "pids.current")
        #expect(Self.close(Self.number(memory, "usage"), current), "memory.current")
        #expect(Self.close(Self.number(memory, "rss"), anon), "rss = anon")
        #expect(Self.close(Self.number(memory, "cache"), file), "cache = file")
        let workingSet = current - min(current, inactiveFile)
        #expect(Self.close(Self.number(memory, "working_set"), workingSet), "working set = current - inactive_file")
        #expect(Self.number(memory, "kernel").map { $0 > 0 } == true, "memory.stat kernel (a documented difference from cAdvisor)")
        #expect(Self.number(stats, "processes", "threads_current") == pidsCurrent)
        let pressure = try #require(Self.number(stats, "cpu", "psi", "some", "total"))
        #expect((before.cpuPressure...after.cpuPressure).contains(pressure), "cpu.pressure some total")

        // The spec: cAdvisor's v2 rules (spec/cgroup-v2.md §3).
        let info = try #require(try agent.json("/api/v1.3/containers\(name)"))
        let spec = info["spec"] as? [String: Any]
        #expect(Self.number(spec, "memory", "limit") == 96 << 20, "memory.max")
        #expect(Self.number(spec, "memory", "reservation") == 8 << 20, "memory.min")
        #expect(Self.number(spec, "cpu", "limit") == 2597, "cpu.weight 100 → shares")
        #expect(Self.number(spec, "cpu", "quota") == 30000 && Self.number(spec, "cpu", "period") == 100_000, "cpu.max")
        #expect((spec?["cpu"] as? [String: Any])?["mask"] as? String == "0", "AllowedCPUs=0 → cpuset.cpus.effective")
        #expect(Self.number(spec, "processes", "limit") == 40 || Self.number(spec, "processes", "limit") == nil)

        // The same figures in /metrics, and no series twice anywhere.
        let text = try agent.get("/metrics").body
        let id = "id=\"\(name)\""
        #expect(Self.metric(text, "container_spec_memory_limit_bytes", [id]) == Double(96 << 20))
        #expect(Self.metric(text, "container_spec_memory_reservation_limit_bytes", [id]) == Double(8 << 20))
        #expect(Self.metric(text, "container_spec_cpu_quota", [id]) == 30000)
        #expect(Self.metric(text, "container_spec_cpu_shares", [id]) == 2597)
        #expect(Self.metric(text, "container_threads_max", [id]) == 40)
        let metricCPU = try #require(Self.metric(text, "container_cpu_usage_seconds_total", [id, "cpu=\"total\""]))
        let cpuAfterScrape = try Self.kernel(name, "cpu.stat", "usage_usec")
        #expect(metricCPU >= Double(before.cpu) / 1e6 && metricCPU <= Double(cpuAfterScrape) / 1e6)
        #expect(Exposition.duplicateSeries(text).isEmpty, "\(Exposition.duplicateSeries(text).prefix(5))")
    }

    // MARK: discovery of scopes and slices

    @Test func aBurstOf100ScopesIsFoundAndTheirSliceGoesWithThem() throws {
        let slice = "nmburst\(getpid())"
        defer { V2SystemdHostTests.stopUnit(slice + ".slice") }
        let agent = try RunningAgent(Self.agentFlags)
        defer { agent.child.stop() }
        let burst = try ChildProcess("/bin/sh", ["-c",
            "for i in $(seq 1 100); do systemd-run --quiet --slice=\(slice) --scope sleep 900 & done; wait"])
        defer { burst.stop() }
        func scopes() -> [String]? {
            guard let info = try? agent.json("/api/v1.3/containers/\(slice).slice") else { return nil }
            return (info["subcontainers"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
        }
        let all = eventually(180) { scopes().flatMap { $0.count == 100 ? $0 : nil } }
        #expect(all?.count == 100, "found \(scopes()?.count ?? 0) of 100 scopes")
        #expect(all?.allSatisfy { $0.hasPrefix("/\(slice).slice/run-") && $0.hasSuffix(".scope") } == true)
        try Self.sh("systemctl stop \(slice).slice")
        let gone = eventually(120) { () -> Bool? in
            guard (try? agent.get("/api/v1.3/containers/\(slice).slice"))?.status != 200 else { return nil }
            let listed = ((try? agent.json("/api/v1.3/containers/"))?["subcontainers"] as? [[String: Any]]) ?? []
            return listed.contains { ($0["name"] as? String)?.hasPrefix("/\(slice).slice") == true } ? nil : true
        }
        #expect(gone == true, "the slice and its 100 scopes are gone from the agent")
    }

    // MARK: OOM on v2

    @Test func anOOMKillInAScopeIsOneEventAndOneCount() throws {
        let unit = "nm-oom-\(getpid())"
        defer { V2SystemdHostTests.stopUnit(unit + ".scope") }
        let agent = try RunningAgent(Self.agentFlags)
        defer { agent.child.stop() }
        // One process holds the memory: dd's 200 MB buffer, filled by read(2), so one process is the
        // victim. systemd may stop the scope once the kernel OOM-kills in it (its OOMPolicy), so the
        // kernel's count is read from the parent slice, whose memory.events is hierarchical: the kills
        // in the scope are its oom_kill's rise.
        let parent = "/system.slice"
        func kernelKills() -> Double? { (try? Self.kernel(parent, "memory.events", "oom_kill")).map { Double($0) } }
        let before = try #require(kernelKills(), "\(parent)/memory.events")
        let (child, name) = try Self.scope(unit, ["MemoryMax=32M", "MemorySwapMax=0", "OOMPolicy=continue"],
                                           "sleep 5; dd if=/dev/zero of=/dev/null bs=200M count=1; sleep 600")
        defer { V2SystemdHostTests.stopUnit(unit + ".scope"); child.stop() }   // the unit first: it ends the sleep too
        #expect(name.hasPrefix(parent + "/"), "\(name) is in \(parent)")
        let killed = eventually(120) { kernelKills().flatMap { $0 > before ? $0 - before : nil } }
        #expect(killed != nil, "the kernel killed a process")
        var kills = killed ?? 1
        // One event per kill the kernel counts, none twice.
        let events = eventually(60) { () -> [[String: Any]]? in
            guard let r = try? agent.get("/api/v1.3/events\(name)?oom_kill_events=true"), r.status == 200,
                  let list = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]] else { return nil }
            let mine = list.filter { $0["container_name"] as? String == name && $0["event_type"] as? String == "oomKill" }
            kills = kernelKills().map { $0 - before } ?? kills
            return mine.isEmpty || Double(mine.count) < kills ? nil : mine
        }
        let allEvents = (try? agent.get("/api/v1.3/events/?all_events=true&subcontainers=true").body) ?? ""
        #expect(events.map { Double($0.count) } == kills,
                "one oomKill event per kill the kernel counts (\(kills)) for \(name): \(events ?? []); all events: \(allEvents.suffix(3000))")
        // The count, while the agent still has the scope (a stopped scope leaves /metrics with its series).
        if (try? agent.get("/api/v2.0/spec\(name)"))?.status == 200 {
            let count = eventually(30) { Self.metric((try? agent.get("/metrics").body) ?? "", "container_oom_events_total", ["id=\"\(name)\""]).flatMap { $0 >= kills ? $0 : nil } }
            let oomLines = ((try? agent.get("/metrics").body) ?? "").split(separator: "\n").filter { $0.hasPrefix("container_oom_events_total") && $0.contains(name) }
            let stillThere = (try? agent.get("/api/v2.0/spec\(name)"))?.status == 200
            #expect(count == kills || (count == nil && !stillThere), "container_oom_events_total counts each of the kernel's \(kills) kills once: \(oomLines)")
        }
    }

    // MARK: Docker on the systemd driver

    @Test func aDockerContainerOnTheSystemdDriver() throws {
        try Self.sh("systemctl start docker && (docker image inspect nm-busybox >/dev/null 2>&1 || docker import /root/busybox-rootfs.tar nm-busybox)")
        let cname = "nm-web-\(getpid())"
        defer { _ = try? run("/usr/bin/docker", ["rm", "-f", cname]) }
        let id = try Self.sh("docker run -d --name \(cname) --memory 64m --cpus 0.5 --pids-limit 50 --label team=nm nm-busybox sleep 600")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let name = "/system.slice/docker-\(id).scope"
        #expect(FileManager.default.fileExists(atPath: Self.root + name), "systemd driver: \(name)")
        let agent = try RunningAgent(Self.agentFlags + ["-docker=unix:///run/docker.sock"])
        defer { agent.child.stop() }
        let info = eventually(90) { () -> [String: Any]? in
            // cAdvisor's shape: a map from the cgroup name to the container's info.
            guard let i = (try? agent.json("/api/v1.3/docker/\(cname)"))?[name] as? [String: Any],
                  (i["aliases"] as? [String])?.contains(cname) == true else { return nil }
            return i
        }
        if info == nil { agent.child.stop() }
        let container = try #require(info, "the container by name under /api/v1.3/docker/; agent log: \(info == nil ? String(agent.child.log.suffix(3000)) : "")")
        #expect(container["name"] as? String == name)
        #expect((container["aliases"] as? [String])?.contains(id) == true)
        let spec = container["spec"] as? [String: Any]
        #expect((spec?["labels"] as? [String: String])?["team"] == "nm")
        #expect(spec?["image"] as? String == "nm-busybox:latest" || spec?["image"] as? String == "nm-busybox")
        #expect(Self.number(spec, "memory", "limit") == 64 << 20)
        #expect(Self.number(spec, "cpu", "quota") == 50000)
        let t0 = Self.nowNanos()
        let before = try Self.kernel(name, "cpu.stat", "usage_usec")
        let stats = try Self.statsTaken(after: t0, of: name, agent: agent)
        let after = try Self.kernel(name, "cpu.stat", "usage_usec")
        #expect((before * 1000...after * 1000).contains(Self.number(stats, "cpu", "usage", "total") ?? 0))
        let current = try Self.kernel(name, "memory.current"), pidsCurrent = try Self.kernel(name, "pids.current")
        #expect(Self.close(Self.number(stats, "memory", "usage"), current))
        #expect(Self.number(stats, "processes", "threads_current") == pidsCurrent)
        let text = try agent.get("/metrics").body
        #expect(Self.metric(text, "container_spec_memory_limit_bytes", ["name=\"\(cname)\""]) == Double(64 << 20))
        #expect(Self.metric(text, "container_memory_usage_bytes", ["name=\"\(cname)\"", "container_label_team=\"nm\""]) != nil)
        #expect(Exposition.duplicateSeries(text).isEmpty, "\(Exposition.duplicateSeries(text).prefix(5))")
    }

    // MARK: a Kubernetes pod on the systemd driver (containerd with SystemdCgroup)

    @Test func aPodOnTheSystemdDriverInTheSummaryAndResourceMetrics() throws {
        try Self.sh("systemctl start containerd")
        let rootfs = "/tmp/nm-pod-rootfs-\(getpid())"
        try Self.sh("mkdir -p \(rootfs) && tar -C \(rootfs) -xf /root/busybox-rootfs.tar")
        let uid = UUID().uuidString.lowercased()
        let slice = "kubepods-burstable-pod\(uid.replacingOccurrences(of: "-", with: "_")).slice"
        func hex64() -> String { (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined() }
        let sandbox = hex64(), app = hex64()
        let ctr = "ctr -n k8s.io"
        defer {
            for id in [app, sandbox] { _ = try? Self.sh("\(ctr) task kill -s KILL \(id); sleep 1; \(ctr) task rm -f \(id); \(ctr) container rm \(id)") }
            _ = try? Self.sh("systemctl stop \(slice); rm -rf \(rootfs)")
        }
        let podLabels = "--label io.kubernetes.pod.name=web --label io.kubernetes.pod.namespace=prod --label io.kubernetes.pod.uid=\(uid)"
        try Self.sh("\(ctr) run -d --rootfs --runc-systemd-cgroup --cgroup \(slice):cri-containerd:\(sandbox) \(podLabels) " +
                    "--label io.cri-containerd.kind=sandbox --label io.kubernetes.container.name=POD \(rootfs) \(sandbox) /bin/busybox sleep 900")
        let sandboxPid = try Self.sh("\(ctr) task ls | awk '$1==\"\(sandbox)\" {print $2}'").trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.sh("\(ctr) run -d --rootfs --runc-systemd-cgroup --cgroup \(slice):cri-containerd:\(app) \(podLabels) " +
                    "--label io.cri-containerd.kind=container --label io.kubernetes.container.name=app " +
                    "--with-ns network:/proc/\(sandboxPid)/ns/net \(rootfs) \(app) /bin/busybox sh -c 'while :; do :; done'")
        let podCgroup = "/kubepods.slice/kubepods-burstable.slice/\(slice)"
        let appCgroup = podCgroup + "/cri-containerd-\(app).scope"
        #expect(FileManager.default.fileExists(atPath: Self.root + appCgroup), "systemd driver names: \(appCgroup)")
        let agent = try RunningAgent(Self.agentFlags)
        defer { agent.child.stop() }

        let pod = eventually(90) { () -> [String: Any]? in
            let pods = (try? agent.json("/stats/summary"))?["pods"] as? [[String: Any]] ?? []
            return pods.first { ($0["podRef"] as? [String: Any])?["uid"] as? String == uid && (($0["containers"] as? [Any])?.count ?? 0) == 1 }
        }
        let summaryPod = try #require(pod, "the pod in /stats/summary")
        let ref = summaryPod["podRef"] as? [String: Any]
        #expect(ref?["name"] as? String == "web" && ref?["namespace"] as? String == "prod")
        let containers = summaryPod["containers"] as? [[String: Any]] ?? []
        #expect(containers.map { $0["name"] as? String } == ["app"], "the sandbox is not a container of the pod")
        // The pod's CPU is its pod cgroup's (a cumulative counter, bounded by two reads around the scrape).
        let before = try Self.kernel(podCgroup, "cpu.stat", "usage_usec")
        let t0 = Self.nowNanos()
        _ = try Self.statsTaken(after: t0, of: podCgroup, agent: agent)
        let summary = try #require(try agent.json("/stats/summary"))
        let resource = try agent.get("/metrics/resource").body
        let after = try Self.kernel(podCgroup, "cpu.stat", "usage_usec")
        let podNow = (summary["pods"] as? [[String: Any]] ?? []).first { ($0["podRef"] as? [String: Any])?["uid"] as? String == uid }
        let podCPU = try #require(Self.number(podNow, "cpu", "usageCoreNanoSeconds"))
        #expect((before * 1000...after * 1000).contains(podCPU), "pod cpu = pod cgroup's cpu.stat")
        let podCPUSeconds = try #require(Self.metric(resource, "pod_cpu_usage_seconds_total", ["namespace=\"prod\"", "pod=\"web\""]))
        #expect(podCPUSeconds >= Double(before) / 1e6 && podCPUSeconds <= Double(after) / 1e6)
        #expect(Self.metric(resource, "container_cpu_usage_seconds_total", ["container=\"app\"", "namespace=\"prod\"", "pod=\"web\""]) != nil)
        #expect(Self.metric(resource, "container_memory_working_set_bytes", ["container=\"app\"", "pod=\"web\""]) != nil)
        #expect(!resource.contains("container=\"POD\""), "no sandbox series")
        let metrics = try agent.get("/metrics").body
        #expect(Exposition.duplicateSeries(metrics).isEmpty, "\(Exposition.duplicateSeries(metrics).prefix(5))")
    }

    // MARK: libsystemd for real: notify, watchdog, journal, identity

    @Test func theStaticAgentAsANotifyServiceWithAWatchdogAndTheJournal() throws {
        let binary = Package.root + "/.build/release/node-metrics"
        #expect(FileManager.default.isExecutableFile(atPath: binary), "the static release build (scripts/test.sh builds it first)")
        let unit = "nm-agent-\(getpid())"
        let port = Int.random(in: 20000...60000)
        defer { V2SystemdHostTests.stopUnit(unit) }
        // systemd-run returns once the start job is done: for Type=notify that is READY=1.
        try Self.sh("systemd-run --quiet --unit=\(unit) -p Type=notify -p WatchdogSec=8 -p Restart=on-failure -p RestartSec=1 " +
                    "-p TimeoutStartSec=300 \(binary) -port=\(port) -listen_ip=127.0.0.1 -housekeeping_interval=1s")
        func show(_ property: String) -> String {
            ((try? Self.sh("systemctl show -p \(property) --value \(unit)")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(show("ActiveState") == "active", "Type=notify: active only after READY=1")
        #expect((try? LoopbackHTTP.get(port: port, "/healthz"))?.status == 200, "READY=1 comes when the agent serves")
        let firstPid = show("MainPID")
        // Watchdog pings keep it alive for well past WatchdogSec.
        sleep(UInt32(24))
        #expect(show("ActiveState") == "active" && show("NRestarts") == "0" && show("MainPID") == firstPid, "kept alive by WATCHDOG=1")

        // Identity: the guest's own files.
        let machine = try #require(try LoopbackHTTP.get(port: port, "/api/v1.3/machine").body.data(using: .utf8))
        let m = try #require(try JSONSerialization.jsonObject(with: machine) as? [String: Any])
        let machineID = try String(contentsOfFile: "/etc/machine-id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let bootID = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        // The guest's SMBIOS UUID (qemu -uuid in scripts/vm-test.sh).
        let uuid = try String(contentsOfFile: "/sys/class/dmi/id/product_uuid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(m["machine_id"] as? String == machineID)
        #expect(m["boot_id"] as? String == bootID)
        #expect((m["system_uuid"] as? String)?.lowercased() == uuid.lowercased())

        // The journal has the agent's entries with their fields and priorities.
        let journal = try Self.sh("journalctl -u \(unit) -o json --no-pager")
        let entries = journal.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        let mine = entries.filter { $0["SYSLOG_IDENTIFIER"] as? String == "node-metrics" }
        #expect(mine.contains { ($0["MESSAGE"] as? String) == "listening" && $0["PRIORITY"] as? String == "6" && $0["NM_ADDRESS"] != nil },
                "a structured info entry: \(mine.prefix(3))")
        #expect(mine.allSatisfy { $0["LOGGER"] != nil && $0["PRIORITY"] != nil })

        // A stopped agent misses its pings: systemd kills it and starts a new one.
        try Self.sh("kill -STOP \(firstPid)")
        let restarted = eventually(120) { show("NRestarts") != "0" && show("ActiveState") == "active" && show("MainPID") != firstPid ? true : nil }
        #expect(restarted == true, "restarted after the watchdog timeout: \(show("NRestarts")) \(show("ActiveState"))")
        let log = try Self.sh("journalctl -u \(unit) --no-pager")
        #expect(log.contains("Watchdog timeout"), "\(log.suffix(2000))")

        // SIGTERM: STOPPING=1 makes the unit deactivating while the agent shuts down, then a clean exit.
        let pid = show("MainPID")
        let watcher = try ChildProcess("/bin/sh", ["-c",
            "kill -TERM \(pid); for i in $(seq 1 2000); do s=$(systemctl show -p ActiveState --value \(unit)); echo $s; [ \"$s\" = inactive ] && break; done"])
        let seen = eventually(120) { watcher.process.isRunning ? nil : watcher.log }
        #expect(seen?.contains("deactivating") == true, "STOPPING=1 seen by systemd: \(seen ?? "")")
        // A clean exit: systemd says so and does not restart it (the transient unit is then unloaded).
        sleep(3)
        #expect(show("ActiveState") == "inactive", "not restarted after a clean exit")
        let stopLog = try Self.sh("journalctl -u \(unit) --no-pager")
        #expect(stopLog.contains("Deactivated successfully"), "\(stopLog.suffix(1500))")
    }
}
