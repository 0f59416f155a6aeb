import Foundation
import Testing
@testable import NodeMetrics

/// The manager on this host's real cgroups.
extension InotifyUsers {
@Suite struct ManagerTests {
    func waitFor(_ seconds: Double = 10, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds * TestTiming.slowdown)
        while !condition() && Date() < deadline { usleep(20_000) }
        return condition()
    }

    func configuration(kinds: MetricKinds = .defaults) -> ManagerConfiguration {
        var c = ManagerConfiguration()
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: true)
        c.metricKinds = kinds
        return c
    }

    @Test func findsSamplesAndForgetsALiveContainer() throws {
        let manager = try ContainerManager(configuration: configuration())
        manager.start()
        defer { manager.stop() }
        #expect(waitFor { manager.store.contains("/") && (manager.store.snapshot("/")?.samples.count ?? 0) >= 2 })
        let root = try #require(manager.store.latest("/"))
        #expect(root.cpu.usage.total > 0 && root.memory.usage > 0)
        #expect(!root.network.isEmpty, "the root container has the host's network")

        let cg = try LiveCgroup(layout: manager.layout)
        var destroyed = false
        defer { if !destroyed { cg.destroy() } }
        try cg.run("while :; do :; done")
        // On a busy 2-core machine the loop may take a moment to be scheduled: wait for its CPU to move.
        #expect(waitFor {
            guard let samples = manager.store.snapshot(cg.name)?.samples, samples.count >= 3 else { return false }
            return samples.last!.cpu.usage.total > samples.first!.cpu.usage.total
        }, "a busy container's CPU moves between its samples")
        var creations = EventFilter()
        creations.types = [.containerCreation]
        creations.containerName = cg.name
        #expect(manager.events.query(creations).count == 1)

        cg.destroy()
        destroyed = true
        #expect(waitFor { !manager.store.contains(cg.name) })
        var deletions = EventFilter()
        deletions.types = [.containerDeletion]
        deletions.containerName = cg.name
        #expect(waitFor { manager.events.query(deletions).count == 1 }, "deleted once, whether housekeeping or discovery saw it first")
        usleep(300_000)
        #expect(manager.events.query(deletions).count == 1, "and only once")
    }

    @Test func disabledKindsAreNotRead() throws {
        let manager = try ContainerManager(configuration: configuration(kinds: MetricKinds(enabled: [.memory])))
        manager.start()
        defer { manager.stop() }
        #expect(waitFor { manager.store.latest("/") != nil })
        let s = try #require(manager.store.latest("/"))
        #expect(s.memory.usage > 0)
        #expect(s.cpu.usage.total == 0 && s.cpu.usage.perCPU.isEmpty, "cpu files are not opened")
        #expect(s.network.isEmpty && s.cpuPressure == nil)
        #expect(s.errors.isEmpty)
    }

    @Test func metricKindFlags() throws {
        #expect(try MetricKinds.parse(enable: "", disable: nil) == .defaults)
        #expect(MetricKinds.defaults.contains(.cpu) && !MetricKinds.defaults.contains(.tcp))
        #expect(try MetricKinds.parse(enable: "cpu,memory", disable: "cpu").enabled == [.cpu, .memory])
        #expect(try MetricKinds.parse(enable: "", disable: "").enabled.count == MetricKind.allCases.count - MetricKinds.withoutCollector.count)
        // Kinds without a collector: known, off by default, on (and reported) only when enabled by name.
        #expect(try MetricKinds.parse(enable: "", disable: "accelerator,cpu").enabled.isDisjoint(with: MetricKinds.withoutCollector))
        #expect(MetricKinds.defaults.enabled.isDisjoint(with: MetricKinds.withoutCollector))
        let named = try MetricKinds.parse(enable: "app,cpu,accelerator,perf_event", disable: nil)
        #expect(named.uncollected.map(\.kind) == [.accelerator, .app, .perfEvent])
        #expect(named.uncollected.first?.reason.contains("GPU") == true)
        #expect(throws: MetricKinds.UnknownKind(flag: "disable_metrics", kind: "bogus")) {
            try MetricKinds.parse(enable: "", disable: "cpu,bogus")
        }
    }

    @Test func aRealOOMKillBecomesEvents() throws {
        var c = configuration()
        c.metricKinds = .defaults
        let manager = try ContainerManager(configuration: c)
        manager.start()
        defer { manager.stop() }
        let cg = try LiveCgroup(layout: manager.layout)
        defer { cg.destroy() }
        try cg.limitMemory(bytes: 33_554_432)
        #expect(waitFor { manager.store.contains(cg.name) })
        usleep(600_000) // the kmsg reader is at the end of the log
        let p = try cg.run(#"x=$(head -c 200000000 /dev/zero | tr "\\0" a); sleep 1"#)
        p.waitUntilExit()
        var f = EventFilter()
        f.types = [.oomKill]
        f.containerName = cg.name
        #expect(waitFor(10) { !manager.events.query(f).isEmpty }, "the kernel killed the shell and logged it")
        let kill = try #require(manager.events.query(f).last)
        #expect(kill.pid != nil && kill.processName != nil)
        f.types = [.oom]
        #expect(!manager.events.query(f).isEmpty)
        #expect((manager.store.snapshot(cg.name)?.oomEvents ?? 0) >= 1)
    }

    @Test func machineInfoMatchesProcAndSys() throws {
        let m = MachineInfo.read(paths: HostPaths())
        #expect(m.numCores == ProcessInfo.processInfo.activeProcessorCount)
        #expect(m.numPhysicalCores >= 1 && m.numPhysicalCores <= m.numCores && m.numSockets >= 1)
        let memTotal = try #require(String(contentsOfFile: "/proc/meminfo", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("MemTotal:") }?.split(separator: " ").dropFirst().first.flatMap { UInt64($0) })
        #expect(m.memoryCapacity == memTotal * 1024)
        #expect(m.cpuFrequencyKHz > 0)
        #expect(m.bootID == (try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(m.filesystems.contains { $0.capacity > 0 && $0.device.hasPrefix("/dev/") })
        #expect(m.filesystems.allSatisfy { $0.device.hasPrefix("/dev/") || $0.type == "tmpfs" || $0.type == "overlay" || $0.type == "zfs" })
        let deviceName = m.deviceNamer()
        #expect(deviceName(UInt32.max, UInt32.max) == "", "a device not in the map has no name")
        for (key, disk) in m.diskMap {
            #expect(key == "\(disk.major):\(disk.minor)")
            #expect(deviceName(UInt32(disk.major), UInt32(disk.minor)) == "/dev/" + disk.name)
            #expect(!disk.name.hasPrefix("loop"))
            #expect((try? String(contentsOfFile: "/sys/block/\(disk.name)/dev", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) == key)
        }
        #expect(!m.networkDevices.contains { $0.name == "lo" })
        for dev in m.networkDevices {
            #expect(dev.macAddress == (try String(contentsOfFile: "/sys/class/net/\(dev.name)/address", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        let threads = m.topology.flatMap { $0.cores.flatMap(\.threadIDs) }
        #expect(threads.sorted() == Array(0..<m.numCores))
        #expect(m.topology.allSatisfy { $0.memory > 0 || m.topology.count == 1 })
        #expect(m.topology.flatMap(\.cores).allSatisfy { !$0.caches.isEmpty })
        #expect(m.kernelVersion == (try String(contentsOfFile: "/proc/sys/kernel/osrelease", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(!m.containerOSVersion.isEmpty)
        #expect(["GCE", "AWS", "Azure", "Unknown"].contains(m.cloudProvider))
    }

    @Test func cpuListsAndSizes() {
        #expect(MachineInfo.cpuList("0-3,5,7-8") == [0, 1, 2, 3, 5, 7, 8])
        #expect(MachineInfo.cpuList("") == [])
        #expect(MachineInfo.parseSize("32768K") == 32 << 20)
        #expect(MachineInfo.osRelease("NAME=x\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n") == "Debian GNU/Linux 12 (bookworm)")
    }
}
}

/// What lives in /proc rather than in the cgroup: processes, network namespaces, connections, filesystems.
extension InotifyUsers {
@Suite struct ContainerProcfsTests {
    @Test func connectionTables() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
               1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1
               2: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 3 1
               3: 0100007F:C351 0100007F:1F90 06 00000000:00000000 00:00000000 00000000     0        0 0 1
            """
        let t = ContainerProcfs.tcpStats(tcp)
        #expect(t.states[0] == 2 && t.states[9] == 1 && t.states[5] == 1)
        let udp = """
               sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
              1: 00000000:0044 00000000:0000 07 00000002:00000010 00:00000000 00000000     0        0 1 2 0000000000000000 5
            """
        let u = ContainerProcfs.udpStats(udp)
        #expect(u.listen == 1 && u.txQueued == 2 && u.rxQueued == 16 && u.dropped == 5)
        #expect(ContainerProcfs.openFilesLimit("Limit Soft Hard Units\nMax open files            1024                 524288               files\n") == (1024, 524288))
        #expect(ContainerProcfs.openFilesLimit("Max open files unlimited unlimited files") == (nil, nil))
    }

    @Test func processesNamespacesAndFilesystemsLive() throws {
        var c = ManagerConfiguration()
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
        c.metricKinds = MetricKinds(enabled: [.cpu, .memory, .network, .tcp, .udp, .process, .disk])
        let manager = try ContainerManager(configuration: c)
        manager.start()
        defer { manager.stop() }
        let cg = try LiveCgroup(layout: manager.layout)
        defer { cg.destroy() }
        // A container whose first process has a network namespace of its own with a veth pair named
        // nm0/nm1 in it (names cAdvisor does not filter), and two more processes.
        try cg.run("exec unshare -n sh -c \"ip link add nm0 type veth peer name nm1 && (sleep 60 & sleep 60 & wait)\"")
        let deadline = Date().addingTimeInterval(10 * TestTiming.slowdown)
        var s: ContainerSample?
        repeat {
            usleep(100_000)
            s = manager.store.latest(cg.name)
        } while ((s?.network.count ?? 0) < 2 || (s?.processes?.processCount ?? 0) < 4) && Date() < deadline
        let sample = try #require(s)
        #expect(sample.processes?.processCount == 4, "the namespace's sh, a subshell and two sleeps")
        #expect((sample.processes?.fdCount ?? 0) >= 4)
        #expect(sample.processes?.openFilesSoft != nil)
        #expect(Set(sample.network.map(\.name)) == ["nm0", "nm1"], "the namespace of the container's first process")
        #expect(sample.connections != nil)
        let root = try #require(manager.store.latest("/"))
        #expect(!root.filesystems.isEmpty && root.filesystems.allSatisfy { $0.capacity > 0 && $0.usage <= $0.capacity })
        #expect(root.filesystems.contains { !$0.io.isEmpty }, "diskstats of the root device")
        #expect(root.connections != nil && root.processes != nil)
        let json = CAdvisorV1Stats.json(root)
        // cAdvisor's filesystem list: block devices and tmpfs/overlay mounts (a tmpfs may come first).
        #expect(json.contains(#""filesystem":[{"device":"#) && json.contains(#"{"device":"/dev/"#))
        #expect(json.contains(#""ulimits":[{"name":"max_open_files","#))
    }
}
}
