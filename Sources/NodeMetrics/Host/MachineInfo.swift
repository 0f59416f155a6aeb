import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// cAdvisor's `MachineInfo` (info/v1), read from /proc and /sys under the root prefix.
public struct MachineInfo: Sendable, Equatable {
    public struct HugePage: Sendable, Equatable { public var pageSizeKB: UInt64; public var numPages: UInt64 }
    public struct Filesystem: Sendable, Equatable {
        public var device: String
        public var type: String
        public var capacity: UInt64
        public var inodes: UInt64
        public var hasInodes: Bool
        /// Where the agent found it mounted (not in cAdvisor's JSON; used for usage).
        public var mountPoint: String
    }
    public struct Disk: Sendable, Equatable {
        public var name: String
        public var major: UInt64
        public var minor: UInt64
        /// Bytes.
        public var size: UInt64
        public var scheduler: String
    }
    public struct NetworkDevice: Sendable, Equatable {
        public var name: String
        public var macAddress: String
        public var speed: Int64
        public var mtu: Int64
    }
    public struct Cache: Sendable, Equatable, Hashable {
        public var id: Int
        /// Bytes.
        public var size: UInt64
        public var type: String
        public var level: Int
    }
    public struct Core: Sendable, Equatable {
        public var coreID: Int
        public var threadIDs: [Int]
        public var caches: [Cache]
        public var uncoreCaches: [Cache]
        public var socketID: Int
    }
    public struct Node: Sendable, Equatable {
        public var nodeID: Int
        /// Bytes.
        public var memory: UInt64
        public var hugePages: [HugePage]
        public var cores: [Core]
        public var caches: [Cache]
        public var distances: [UInt64]
    }

    public var timestampNanos: Int64 = 0
    /// What could not be read when this was taken (machine_scrape_error is 1 when any).
    public var scrapeErrors: [String] = []
    public var vendorID = ""
    public var numCores = 0
    public var numPhysicalCores = 0
    public var numSockets = 0
    public var cpuFrequencyKHz: UInt64 = 0
    public var memoryCapacity: UInt64 = 0
    public var swapCapacity: UInt64 = 0
    public var hugePages: [HugePage] = []
    public var machineID = ""
    public var systemUUID = ""
    public var bootID = ""
    public var filesystems: [Filesystem] = []
    public var diskMap: [String: Disk] = [:]
    public var networkDevices: [NetworkDevice] = []
    public var topology: [Node] = []
    public var cloudProvider = "Unknown"
    public var instanceType = "Unknown"
    public var instanceID = "None"
    /// uname release; /etc/os-release PRETTY_NAME (cAdvisor's VersionInfo).
    public var kernelVersion = ""
    public var containerOSVersion = ""
    public init() {}
}

extension MachineInfo {
    /// Reads everything. Missing files leave their fields empty, as in cAdvisor.
    public static func read(paths: HostPaths, mounts: [MountEntry]? = nil) -> MachineInfo {
        var m = MachineInfo()
        m.timestampNanos = Clocks.wallNanos()
        let cpuinfo = HostFiles.read(paths.path("/proc/cpuinfo"))
        if cpuinfo == nil { m.scrapeErrors.append("cannot read /proc/cpuinfo") }
        readCPUInfo(cpuinfo ?? "", into: &m)
        if let maxFreq = HostFiles.firstLine(paths.path("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")).flatMap({ UInt64($0) }) {
            m.cpuFrequencyKHz = maxFreq
        }
        let meminfo = Procfs.parseMeminfo(HostFiles.read(paths.path("/proc/meminfo")) ?? "")
        m.memoryCapacity = meminfo["MemTotal"] ?? 0
        if meminfo["MemTotal"] == nil { m.scrapeErrors.append("no MemTotal in /proc/meminfo") }
        m.swapCapacity = meminfo["SwapTotal"] ?? 0
        m.hugePages = HugePages.pools(in: paths.path("/sys/kernel/mm/hugepages"))
        let identity = SystemIdentity.read(paths: paths)
        m.machineID = identity.machineID
        m.bootID = identity.bootID
        m.systemUUID = SystemIdentity.systemUUID(paths: paths)
        m.filesystems = filesystems(mounts: mounts ?? (try? MountInfo.parse(HostFiles.read(paths.path("/proc/1/mountinfo")) ?? "")) ?? [], paths: paths)
        m.diskMap = disks(paths: paths)
        m.networkDevices = networkDevices(paths: paths)
        m.topology = topology(paths: paths)
        (m.cloudProvider, m.instanceType, m.instanceID) = cloud(paths: paths)
        var u = utsname()
        if uname(&u) == 0 {
            m.kernelVersion = withUnsafePointer(to: u.release) { $0.withMemoryRebound(to: CChar.self, capacity: 65) { String(cString: $0) } }
        }
        m.containerOSVersion = osRelease(HostFiles.read(paths.path("/etc/os-release")) ?? "")
        return m
    }

    static func readCPUInfo(_ text: String, into m: inout MachineInfo) {
        var processors = 0
        var cores = Set<String>()
        var sockets = Set<String>()
        var physical = "0"
        for line in text.split(separator: "\n") {
            let kv = line.split(separator: ":", maxSplits: 1).map { $0.trimmed }
            guard kv.count == 2 else { continue }
            switch kv[0] {
            case "processor": processors += 1
            case "vendor_id" where m.vendorID.isEmpty: m.vendorID = kv[1]
            case "physical id":
                physical = kv[1]
                sockets.insert(kv[1])
            case "core id": cores.insert(physical + ":" + kv[1])
            case "cpu MHz" where m.cpuFrequencyKHz == 0:
                if let mhz = Double(kv[1]) { m.cpuFrequencyKHz = UInt64(saturating: (mhz * 1000).rounded()) }
            default: break
            }
        }
        m.numCores = processors
        m.numPhysicalCores = cores.isEmpty ? processors : cores.count
        m.numSockets = sockets.isEmpty ? 1 : sockets.count
    }

    /// Where container runtimes and the kubelet mount containers' root filesystems and pods' volumes:
    /// their overlay and tmpfs mounts are left out of the host's list (one per container or secret
    /// volume on a busy node; their usage is the containers', not the host's).
    static let containerMountPrefixes = ["/var/lib/docker/", "/var/lib/containerd/", "/run/containerd/",
                                         "/var/lib/containers/", "/run/containers/", "/var/run/containers/",
                                         "/var/lib/kubelet/pods/", "/run/k3s/", "/var/run/docker/", "/run/docker/",
                                         "/run/netns/", "/var/run/netns/"]

    /// cAdvisor's global filesystem list (fs.go processMounts): every mount of type ext*, btrfs, xfs, zfs,
    /// overlay or tmpfs that statfs answers, once per source (a bind mount of the same device is left
    /// out; the first mount wins). A tmpfs is named by its mount point and an overlay `overlay_<major>-<minor>`,
    /// as cAdvisor names them. Deliberately left out: overlay and tmpfs mounts under the runtimes' and the
    /// kubelet's directories (`containerMountPrefixes`).
    static func filesystems(mounts: [MountEntry], paths: HostPaths) -> [Filesystem] {
        var seen = Set<String>()
        var out: [Filesystem] = []
        for m in mounts {
            let device: String
            switch m.fsType {
            case "tmpfs", "overlay":
                if containerMountPrefixes.contains(where: { m.mountPoint.hasPrefix($0) }) { continue }
                device = m.fsType == "tmpfs" ? m.mountPoint : "\(m.source)_\(m.major)-\(m.minor)"
            case "btrfs", "xfs", "zfs":
                device = m.source
            case let t where t.hasPrefix("ext"):
                device = m.source
            default:
                continue
            }
            guard !device.isEmpty, !seen.contains(device) else { continue }
            var st = statvfs()
            guard statvfs(paths.path(m.mountPoint), &st) == 0 else { continue }
            seen.insert(device)
            let block = UInt64(st.f_frsize)
            out.append(Filesystem(device: device, type: m.fsType, capacity: UInt64(st.f_blocks).saturatingMultiply(block),
                                  inodes: UInt64(st.f_files), hasInodes: st.f_files > 0, mountPoint: m.mountPoint))
        }
        return out
    }

    /// /sys/block without loop, ram and sr devices, keyed "major:minor".
    static func disks(paths: HostPaths) -> [String: Disk] {
        let dir = paths.path("/sys/block")
        var out: [String: Disk] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        where !name.hasPrefix("loop") && !name.hasPrefix("ram") && !name.hasPrefix("sr") {
            guard let dev = HostFiles.firstLine("\(dir)/\(name)/dev") else { continue }
            let mm = dev.split(separator: ":").compactMap { UInt64($0) }
            guard mm.count == 2 else { continue }
            let sectors = HostFiles.firstLine("\(dir)/\(name)/size").flatMap { UInt64($0) } ?? 0
            let schedulers = HostFiles.firstLine("\(dir)/\(name)/queue/scheduler") ?? "none"
            let active = schedulers.split(separator: " ").first { $0.hasPrefix("[") }
                .map { String($0.dropFirst().dropLast()) } ?? "none"
            out[dev] = Disk(name: name, major: mm[0], minor: mm[1], size: sectors.saturatingMultiply(512), scheduler: active)
        }
        return out
    }

    static func networkDevices(paths: HostPaths) -> [NetworkDevice] {
        let dir = paths.path("/sys/class/net")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
        return names.filter { n in !["lo", "veth", "docker", "nerdctl"].contains { n.hasPrefix($0) } }.compactMap { name in
            guard let mac = HostFiles.firstLine("\(dir)/\(name)/address") else { return nil }
            let mtu = HostFiles.firstLine("\(dir)/\(name)/mtu").flatMap { Int64($0) } ?? 0
            let speed = HostFiles.firstLine("\(dir)/\(name)/speed").flatMap { Int64($0) } ?? 0
            return NetworkDevice(name: name, macAddress: mac, speed: speed, mtu: mtu)
        }
    }

    /// The largest CPU number a list may name: the kernel's NR_CPUS is at most 8192; a file naming
    /// more is not the kernel's, and a range up to it must not become an array of 2^63 entries.
    static let maxCPUID = 65_535

    /// Parses "0-3,5" style CPU lists (numbers above `maxCPUID` are left out).
    static func cpuList(_ text: String) -> [Int] {
        text.split(separator: ",").flatMap { part -> [Int] in
            let ends = part.split(separator: "-").compactMap { Int($0.trimmed) }
            guard let first = ends.first, first <= maxCPUID else { return [] }
            if ends.count == 2, first <= ends[1] { return Array(first...min(ends[1], maxCPUID)) }
            return ends.count == 1 ? ends : []
        }
    }

    /// NUMA nodes with their cores, threads and caches from /sys/devices/system.
    static func topology(paths: HostPaths) -> [Node] {
        let cpuDir = paths.path("/sys/devices/system/cpu")
        let nodeDir = paths.path("/sys/devices/system/node")
        var nodeCPUs: [Int: [Int]] = [:]
        for name in (try? FileManager.default.contentsOfDirectory(atPath: nodeDir)) ?? [] where name.hasPrefix("node") {
            guard let id = Int(name.dropFirst(4)) else { continue }
            nodeCPUs[id] = cpuList(HostFiles.firstLine("\(nodeDir)/\(name)/cpulist") ?? "")
        }
        if nodeCPUs.isEmpty { // no NUMA information: one node with every online CPU
            nodeCPUs[0] = cpuList(HostFiles.firstLine("\(cpuDir)/online") ?? "")
        }
        var nodes: [Node] = []
        for (id, cpus) in nodeCPUs.sorted(by: { $0.key < $1.key }) {
            var cores: [String: Core] = [:]
            var nodeCaches = Set<Cache>()
            for cpu in cpus {
                let base = "\(cpuDir)/cpu\(cpu)"
                let coreID = HostFiles.firstLine("\(base)/topology/core_id").flatMap { Int($0) } ?? cpu
                let socket = HostFiles.firstLine("\(base)/topology/physical_package_id").flatMap { Int($0) } ?? 0
                let siblings = cpuList(HostFiles.firstLine("\(base)/topology/thread_siblings_list") ?? "\(cpu)")
                let key = "\(socket):\(coreID)"
                var core = cores[key] ?? Core(coreID: coreID, threadIDs: [], caches: [], uncoreCaches: [], socketID: socket)
                core.threadIDs.append(cpu)
                for index in (try? FileManager.default.contentsOfDirectory(atPath: "\(base)/cache")) ?? [] where index.hasPrefix("index") {
                    let c = "\(base)/cache/\(index)"
                    guard let level = HostFiles.firstLine("\(c)/level").flatMap({ Int($0) }) else { continue }
                    let cache = Cache(id: HostFiles.firstLine("\(c)/id").flatMap { Int($0) } ?? 0,
                                      size: parseSize(HostFiles.firstLine("\(c)/size") ?? "0"),
                                      type: HostFiles.firstLine("\(c)/type") ?? "", level: level)
                    let shared = cpuList(HostFiles.firstLine("\(c)/shared_cpu_list") ?? "")
                    if Set(shared).isSubset(of: Set(siblings)) {
                        if !core.caches.contains(cache) { core.caches.append(cache) }
                    } else {
                        nodeCaches.insert(cache)
                    }
                }
                cores[key] = core
            }
            let memory = Procfs.parseMeminfo(HostFiles.read("\(nodeDir)/node\(id)/meminfo")?
                .replacing("Node \(id) ", with: "") ?? "")["MemTotal"] ?? 0
            let distances = (HostFiles.firstLine("\(nodeDir)/node\(id)/distance") ?? "").split(separator: " ").compactMap { UInt64($0) }
            nodes.append(Node(nodeID: id, memory: memory,
                              hugePages: HugePages.pools(in: "\(nodeDir)/node\(id)/hugepages"),
                              cores: cores.values.sorted { ($0.socketID, $0.coreID) < ($1.socketID, $1.coreID) }
                                .map { var c = $0; c.threadIDs.sort(); c.caches.sort { ($0.level, $0.type) < ($1.level, $1.type) }; return c },
                              caches: nodeCaches.sorted { ($0.level, $0.id) < ($1.level, $1.id) },
                              distances: distances))
        }
        return nodes
    }

    /// "32768K" -> bytes.
    static func parseSize(_ s: String) -> UInt64 {
        let units: [Character: UInt64] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024]
        if let last = s.last, let unit = units[last], let v = UInt64(s.dropLast()) { return v.saturatingMultiply(unit) }
        return UInt64(s) ?? 0
    }

    /// Cloud provider, instance type and id from DMI files only (no metadata server calls).
    static func cloud(paths: HostPaths) -> (String, String, String) {
        let dmi = paths.path("/sys/class/dmi/id")
        let vendor = HostFiles.firstLine(dmi + "/sys_vendor") ?? ""
        let product = HostFiles.firstLine(dmi + "/product_name") ?? ""
        let bios = HostFiles.firstLine(dmi + "/bios_vendor") ?? ""
        let biosVersion = HostFiles.firstLine(dmi + "/bios_version") ?? ""
        if product.hasPrefix("Google") || vendor.hasPrefix("Google") {
            return ("GCE", "Unknown", "None")
        }
        if vendor.hasPrefix("Amazon") || bios.hasPrefix("Amazon") || biosVersion.includes("amazon") {
            let type = product.isEmpty ? "Unknown" : product
            let id = HostFiles.firstLine(dmi + "/board_asset_tag").flatMap { $0.hasPrefix("i-") ? $0 : nil } ?? "None"
            return ("AWS", type, id)
        }
        if vendor == "Microsoft Corporation" && product == "Virtual Machine" {
            return ("Azure", "Unknown", HostFiles.firstLine(dmi + "/product_uuid") ?? "None")
        }
        return ("Unknown", "Unknown", "None")
    }

    /// PRETTY_NAME of /etc/os-release, or "Linux".
    static func osRelease(_ text: String) -> String {
        for line in text.split(separator: "\n") where line.hasPrefix("PRETTY_NAME=") {
            return String(line.dropFirst("PRETTY_NAME=".count)).trimmed.filter { $0 != "\"" && $0 != "'" }
        }
        return "Linux"
    }
}

extension MachineInfo {
    /// `/dev/<name>` of a block device by its numbers ("" for one not in `diskMap`, whose keys are
    /// "major:minor"), looked up in a table made once here rather than a string made per call.
    func deviceNamer() -> CAdvisorV1Stats.DeviceNamer {
        var paths: [UInt64: String] = [:]
        for (key, disk) in diskMap {
            let numbers = key.split(separator: ":")
            guard numbers.count == 2, let major = UInt32(numbers[0]), let minor = UInt32(numbers[1]) else { continue }
            paths[UInt64(major) << 32 | UInt64(minor)] = "/dev/" + disk.name
        }
        return { [paths] major, minor in paths[UInt64(major) << 32 | UInt64(minor)] ?? "" }
    }
}
