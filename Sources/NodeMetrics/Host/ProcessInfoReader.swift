import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Per-container data that lives in /proc rather than in the cgroup: the container's processes,
/// its network namespace, its connections, and the root container's filesystems.
public struct ContainerProcfs {
    public let paths: HostPaths

    public init(paths: HostPaths) { self.paths = paths }

    /// The pids listed in a cgroup directory's cgroup.procs.
    public func pids(cgroupDirectory: String) -> [Int32] {
        (HostFiles.read(cgroupDirectory + "/cgroup.procs") ?? "").split(separator: "\n").compactMap { Int32($0) }
    }

    /// The network namespace of a process ("net:[4026531992]"), nil when it is gone.
    public func networkNamespace(pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let n = readlink(paths.path("/proc/\(pid)/ns/net"), &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// process_count, fd_count and socket_count over `pids`, and the first one's open-files limit.
    public func processStats(pids: [Int32]) -> ProcessStats {
        var stats = ProcessStats()
        stats.processCount = UInt64(pids.count)
        var link = [CChar](repeating: 0, count: 64)
        for pid in pids {
            let dir = paths.path("/proc/\(pid)/fd")
            guard let d = opendir(dir) else { continue }
            while let entry = readdir(d) {
                let name = withUnsafePointer(to: entry.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name == "." || name == ".." { continue }
                stats.fdCount += 1
                let n = readlink(dir + "/" + name, &link, link.count - 1)
                if n >= 7 && link.prefix(7).elementsEqual("socket:".utf8.map { CChar(bitPattern: $0) }) {
                    stats.socketCount += 1
                }
            }
            closedir(d)
        }
        if let first = pids.first, let limits = HostFiles.read(paths.path("/proc/\(first)/limits")) {
            (stats.openFilesSoft, stats.openFilesHard) = Self.openFilesLimit(limits)
        }
        return stats
    }

    /// "Max open files            1024                 524288               files" -> (1024, 524288).
    static func openFilesLimit(_ limits: String) -> (UInt64?, UInt64?) {
        guard let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") }) else { return (nil, nil) }
        let fields = line.dropFirst("Max open files".count).split(separator: " ")
        guard fields.count >= 2 else { return (nil, nil) }
        return (UInt64(fields[0]), UInt64(fields[1]))
    }

    /// TCP state counts of /proc/<pid>/net/tcp or tcp6 (column 4 is the state in hex).
    public static func tcpStats(_ table: String) -> TCPStats {
        var stats = TCPStats()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 3, let state = Int(fields[3], radix: 16), state >= 1, state <= 11 else { continue }
            stats.states[state - 1] += 1
        }
        return stats
    }

    /// UDP counts of /proc/<pid>/net/udp or udp6: LISTEN (state 07) sockets, drops and queues.
    public static func udpStats(_ table: String) -> UDPStats {
        var stats = UDPStats()
        for line in table.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ")
            guard fields.count > 12, let state = Int(fields[3], radix: 16) else { continue }
            if state == 7 { stats.listen += 1 }
            let queues = fields[4].split(separator: ":")
            if queues.count == 2 {
                stats.txQueued = stats.txQueued.saturatingAdd(UInt64(queues[0], radix: 16) ?? 0)
                stats.rxQueued = stats.rxQueued.saturatingAdd(UInt64(queues[1], radix: 16) ?? 0)
            }
            stats.dropped = stats.dropped.saturatingAdd(UInt64(fields[12]) ?? 0)
        }
        return stats
    }

    /// TCP/UDP counts and the advanced TCP counters of the namespace of `pid`, for the kinds asked for.
    public func connections(pid: Int32, tcp: Bool, udp: Bool, advanced: Bool = false) -> ConnectionStats {
        func read(_ file: String) -> String { HostFiles.read(paths.path("/proc/\(pid)/net/\(file)")) ?? "" }
        return ConnectionStats(tcp: tcp ? Self.tcpStats(read("tcp")) : TCPStats(),
                               tcp6: tcp ? Self.tcpStats(read("tcp6")) : TCPStats(),
                               udp: udp ? Self.udpStats(read("udp")) : UDPStats(),
                               udp6: udp ? Self.udpStats(read("udp6")) : UDPStats(),
                               advanced: advanced ? tcpAdvanced(pid: pid) : nil)
    }

    /// Usage of the host's block filesystems (statvfs) with their disk I/O counters.
    public func filesystems(_ mounted: [MachineInfo.Filesystem], disks: [DiskStat]) -> [FilesystemStats] {
        mounted.compactMap { fs in
            var st = statvfs()
            guard statvfs(paths.path(fs.mountPoint), &st) == 0 else { return nil }
            var out = FilesystemStats(device: fs.device, type: fs.type)
            let block = UInt64(st.f_frsize)
            out.capacity = UInt64(st.f_blocks).saturatingMultiply(block)
            out.available = UInt64(st.f_bavail).saturatingMultiply(block)
            // A filesystem may report more free blocks than blocks (some FUSE ones do): usage 0.
            out.usage = UInt64(st.f_blocks).saturatingSubtract(UInt64(st.f_bfree)).saturatingMultiply(block)
            out.inodes = UInt64(st.f_files)
            out.inodesFree = UInt64(st.f_ffree)
            let name = fs.device.split(separator: "/").last.map(String.init) ?? ""
            out.io = disks.first { $0.name == name }?.fields ?? []
            return out
        }
    }
}
