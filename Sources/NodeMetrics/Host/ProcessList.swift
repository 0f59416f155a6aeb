import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// One process as cAdvisor's /api/v2.0/ps reports it (info/v2 ProcessInfo), read from /proc instead
/// of running `ps`: the columns are those of `ps -e -o user,pid,ppid,stime,pcpu,pmem,rss,vsz,stat,time,comm,psr`.
public struct ProcessEntry: Sendable, Equatable {
    public var user: String
    public var pid: Int64
    public var parentPID: Int64
    /// ps's STIME: "HH:MM" when started today (UTC), "MmmDD" this year, else the year.
    public var startTime: String
    public var percentCPU: Double
    public var percentMemory: Double
    /// Bytes.
    public var rss: UInt64
    public var virtualSize: UInt64
    /// ps's STAT: the state letter and its modifiers (<, N, s, l).
    public var status: String
    /// ps's TIME: cumulative CPU time, "[DD-]HH:MM:SS".
    public var runningTime: String
    public var cgroupPath: String
    public var command: String
    public var fdCount: Int
    public var processor: Int64
}

extension ContainerProcfs {
    /// The processes of a container: every process for "/", else those whose cgroup (in the cpu
    /// hierarchy, or the unified one) is exactly `name`, as cAdvisor filters.
    public func processList(container name: String, procfs: Procfs) -> [ProcessEntry] {
        let procDir = paths.path("/proc")
        let ticks = Double(max(sysconf(Int32(_SC_CLK_TCK)), 1))
        let uptime = Double((HostFiles.firstLine(procDir + "/uptime") ?? "0").split(separator: " ").first ?? "0") ?? 0
        let bootTime = (try? procfs.stat().bootTime).map { Double($0) } ?? 0
        let memTotal = Double((try? procfs.memInfo()["MemTotal"]) ?? 0)
        let users = userNames()
        let pageSize = UInt64(max(sysconf(Int32(_SC_PAGESIZE)), 1))
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var out: [ProcessEntry] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: procDir)) ?? [] {
            guard let pid = Int32(entry) else { continue }
            guard let stat = try? procfs.processStat(pid: pid) else { continue } // exited meanwhile
            let cgroup = cgroupPath(pid: pid)
            if name != "/" && cgroup != name { continue }
            let status = try? procfs.processStatus(pid: pid)
            let uid = status?.fields["Uid"] ?? 0
            let cpuSeconds = (Double(stat.userTicks) + Double(stat.systemTicks)) / ticks // u64 + u64 may not fit
            let elapsed = max(uptime - Double(stat.startTimeTicks) / ticks, 0)
            let rss = UInt64(max(stat.rssPages, 0)).saturatingMultiply(pageSize)
            var state = String(stat.state)
            if stat.nice < 0 { state += "<" } else if stat.nice > 0 { state += "N" }
            if stat.pid == stat.session { state += "s" }
            if stat.threads > 1 { state += "l" }
            let fds = ((try? FileManager.default.contentsOfDirectory(atPath: "\(procDir)/\(pid)/fd")) ?? []).count
            out.append(ProcessEntry(
                user: users[uid] ?? String(uid), pid: stat.pid, parentPID: stat.ppid,
                startTime: Self.psStartTime(Int64(saturating: bootTime + Double(stat.startTimeTicks) / ticks), now: Int64(now.tv_sec)),
                percentCPU: elapsed > 0 ? (cpuSeconds / elapsed * 1000).rounded() / 10 : 0,
                percentMemory: memTotal > 0 ? (Double(rss) / memTotal * 1000).rounded() / 10 : 0,
                rss: rss, virtualSize: stat.virtualSize, status: state,
                runningTime: Self.psTime(Int64(saturating: cpuSeconds)), cgroupPath: cgroup, command: stat.comm,
                fdCount: fds, processor: stat.processor))
        }
        return out.sorted { $0.pid < $1.pid }
    }

    /// The process's cgroup in the cpu hierarchy (v1) or the unified one ("0::/path").
    func cgroupPath(pid: Int32) -> String {
        let text = HostFiles.read(paths.path("/proc/\(pid)/cgroup")) ?? ""
        var unified = "/"
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].split(separator: ",").contains("cpu") { return String(parts[2]) }
            if parts[0] == "0" && parts[1].isEmpty { unified = String(parts[2]) }
        }
        return unified
    }

    /// uid -> name from the host's /etc/passwd.
    func userNames() -> [UInt64: String] {
        var out: [UInt64: String] = [:]
        for line in (HostFiles.read(paths.path("/etc/passwd")) ?? "").split(separator: "\n") {
            let f = line.split(separator: ":", omittingEmptySubsequences: false)
            if f.count > 2, let uid = UInt64(f[2]) { out[uid] = String(f[0]) }
        }
        return out
    }

    /// ps's STIME in UTC: "HH:MM" today, "MmmDD" this year, otherwise the year.
    static func psStartTime(_ start: Int64, now: Int64) -> String {
        var s = time_t(start), n = time_t(now)
        var a = tm(), b = tm()
        guard gmtime_r(&s, &a) != nil, gmtime_r(&n, &b) != nil else { return "?" } // year beyond Int32
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        if a.tm_year == b.tm_year && a.tm_yday == b.tm_yday { return "\(two(a.tm_hour)):\(two(a.tm_min))" }
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        if a.tm_year == b.tm_year { return "\(months[Int(a.tm_mon)])\(two(a.tm_mday))" }
        return String(a.tm_year + 1900)
    }

    /// ps's TIME: "[DD-]HH:MM:SS".
    static func psTime(_ seconds: Int64) -> String {
        let d = seconds / 86400, h = seconds % 86400 / 3600, m = seconds % 3600 / 60, s = seconds % 60
        func two(_ v: Int64) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return (d > 0 ? "\(d)-" : "") + "\(two(h)):\(two(m)):\(two(s))"
    }
}
