import Foundation
import Testing
@testable import NodeMetrics

/// Mount detection, host paths and identity.
@Suite struct HostTests {
    @Test func detectsHybrid() throws {
        let layout = try CgroupLayout.detect(mountinfoPath: Fixtures.path("mountinfo-hybrid"))
        #expect(layout.mode == .hybrid)
        #expect(layout.mountPoints[.cpu] == "/sys/fs/cgroup/cpu")
        #expect(layout.mountPoints[.cpuacct] == "/sys/fs/cgroup/cpuacct")
        #expect(layout.mountPoints[.memory] == "/sys/fs/cgroup/memory")
        #expect(layout.mountPoints[.unified] == "/sys/fs/cgroup/unified")
        #expect(layout.mountPoints[.hugetlb] == nil, "this host has no hugetlb controller")
    }

    @Test func detectsV1() throws {
        let layout = try CgroupLayout.detect(mountinfoPath: Fixtures.path("mountinfo-v1"))
        #expect(layout.mode == .v1)
        #expect(layout.mountPoints[.unified] == nil)
    }

    @Test func detectsV2AndUnescapes() throws {
        let text = try Fixtures.text("mountinfo-v2")
        let mounts = try MountInfo.parse(text)
        #expect(mounts.last?.mountPoint == "/var/lib/with space")
        #expect(mounts.first?.major == 253 && mounts.first?.minor == 1 && mounts.first?.source == "/dev/vda1")
        let layout = try CgroupLayout.detect(from: mounts)
        #expect(layout == CgroupLayout(mode: .v2, mountPoints: [.unified: "/sys/fs/cgroup"]))
    }

    @Test func coMountedControllersShareAPath() throws {
        let mounts = try MountInfo.parse("""
            30 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
            31 25 0:27 /docker/x /mnt/bind rw - cgroup cgroup rw,cpu,cpuacct
            """)
        let layout = try CgroupLayout.detect(from: mounts)
        #expect(layout.mode == .v1)
        #expect(layout.mountPoints[.cpu] == "/sys/fs/cgroup/cpu,cpuacct", "the mount of the hierarchy's root wins")
        #expect(layout.mountPoints[.cpuacct] == "/sys/fs/cgroup/cpu,cpuacct")
    }

    @Test func badMountinfo() {
        #expect(throws: MountInfo.ParseError.self) { try MountInfo.parse("garbage line\n") }
        #expect(throws: MountInfo.ParseError.self) { try MountInfo.parse("1 2 x:y / /a rw - ext4 /dev/a rw\n") }
        #expect(throws: CgroupLayout.DetectionError.noCgroupMounts) {
            try CgroupLayout.detect(from: MountInfo.parse("1 2 8:1 / / rw - ext4 /dev/a rw\n"))
        }
        #expect(throws: HostFileError.self) { try CgroupLayout.detect(mountinfoPath: "/nonexistent/mountinfo") }
    }

    @Test func rootPrefix() {
        #expect(HostPaths().path("/proc") == "/proc")
        #expect(HostPaths(root: "/rootfs/").path("/proc/stat") == "/rootfs/proc/stat")
        #expect(HostPaths(root: "/").isHostRoot)
        #expect(!HostPaths(root: "/rootfs").isHostRoot)
    }

    @Test func identityFromLibsystemdAndFiles() throws {
        let id = SystemIdentity.read(paths: HostPaths())
        #expect(id.bootID.count == 36, "dashed UUID: \(id.bootID)")
        let kernelBootID = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.bootID == kernelBootID)
        if let file = HostFiles.firstLine("/etc/machine-id") { #expect(id.machineID == file) }

        // Under a root prefix the prefixed files win; here a fixture root with its own ids.
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nm-root-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/etc", withIntermediateDirectories: true)
        try "0123456789abcdef0123456789abcdef\n".write(toFile: root + "/etc/machine-id", atomically: true, encoding: .utf8)
        #expect(SystemIdentity.read(paths: HostPaths(root: root)).machineID == "0123456789abcdef0123456789abcdef")
        #expect(SystemIdentity.dashed("0123456789abcdef0123456789abcdef") == "01234567-89ab-cdef-0123-456789abcdef")
    }

    @Test func hugePageSizes() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nm-huge-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        for d in ["hugepages-1048576kB", "hugepages-2048kB", "other"] {
            try FileManager.default.createDirectory(atPath: root + "/sys/kernel/mm/hugepages/" + d,
                                                    withIntermediateDirectories: true)
        }
        #expect(HugePages.sizesKB(paths: HostPaths(root: root)) == [2048, 1_048_576])
    }
}

/// procfs readers on captured files and on malformed copies.
@Suite struct ProcfsTests {
    @Test func capturedFiles() throws {
        let procfs = try Procfs(paths: HostPaths(root: Fixtures.root))
        let stat = try procfs.stat()
        let cpuLines = try Fixtures.text("proc/stat").split(separator: "\n").filter { $0.hasPrefix("cpu") }
        #expect(stat.perCPU.count == cpuLines.count - 1)
        let total = cpuLines[0].split(separator: " ").dropFirst().compactMap { UInt64($0) }
        #expect(stat.total.user == total[0] && stat.total.idle == total[3] && stat.total.steal == total[7])
        #expect(stat.bootTime > 1_600_000_000)

        let mem = try procfs.memInfo()
        let memTotalKB = try #require(try Fixtures.text("proc/meminfo").split(separator: "\n").first?
            .split(separator: " ").dropFirst().first.flatMap { UInt64($0) })
        #expect(mem["MemTotal"] == memTotalKB * 1024)
        #expect(mem["HugePages_Total"] != nil)

        let load = try procfs.loadAverage()
        let loadFields = try Fixtures.text("proc/loadavg").split(separator: " ")
        #expect(load.load1 == Double(loadFields[0]))
        #expect(load.threads == UInt64(loadFields[3].split(separator: "/")[1]))

        let vm = try procfs.vmstat()
        #expect(vm.count == (try Fixtures.text("proc/vmstat").split(separator: "\n").count))

        let disks = try procfs.diskStats()
        #expect(disks.count == (try Fixtures.text("proc/diskstats").split(separator: "\n").count))
        #expect(disks.allSatisfy { $0.fields.count >= 11 })

        let net = try procfs.netDev(pid: 1)
        #expect(net.count == (try Fixtures.text("proc/1/net/dev").split(separator: "\n").count) - 2)
        #expect(net.contains { $0.name == "lo" } && !net.filter(\.isContainerInterface).contains { $0.name == "lo" })

        let ps = try procfs.processStat(pid: 1)
        #expect(ps.pid == 1 && !ps.comm.isEmpty)
        let status = try procfs.processStatus(pid: 1)
        #expect(status.name == ps.comm)
        #expect(status.fields["Pid"] == 1)
    }

    @Test func malformedFilesAreErrors() throws {
        let procfs = try Procfs(paths: HostPaths(root: Fixtures.path("bad-root")))
        #expect(throws: ProcfsError(file: "stat", status: -1)) { try procfs.stat() }         // fewer than 4 columns
        #expect(throws: ProcfsError(file: "meminfo", status: -2)) { try procfs.memInfo() }   // kB * 1024 overflows
        #expect(throws: ProcfsError(file: "loadavg", status: -1)) { try procfs.loadAverage() }
        #expect(throws: ProcfsError(file: "vmstat", status: -1)) { try procfs.vmstat() }
        #expect(throws: ProcfsError(file: "diskstats", status: -1)) { try procfs.diskStats() }
        #expect(throws: ProcfsError(file: "1/net/dev", status: -1)) { try procfs.netDev(pid: 1) }
        #expect(throws: ProcfsError(file: "1/stat", status: -1)) { try procfs.processStat(pid: 1) }
        #expect(throws: ProcfsError(file: "1/status", status: -1)) { try procfs.processStatus(pid: 1) }
        #expect(throws: ProcfsError.self) { try Procfs(paths: HostPaths(root: "/nonexistent")) }
    }

    @Test func liveProcfs() throws {
        let procfs = try Procfs(paths: HostPaths())
        let a = try procfs.stat()
        #expect(a.perCPU.count == ProcessInfo.processInfo.activeProcessorCount)
        let me = try procfs.processStat(pid: getpid())
        #expect(me.pid == Int64(getpid()) && me.threads >= 1)
        #expect(throws: ProcfsError.self) { try procfs.processStat(pid: 999_999_999) }
        do {
            _ = try procfs.processStat(pid: 999_999_999)
        } catch {
            #expect(error.isGone)
        }
    }
}
