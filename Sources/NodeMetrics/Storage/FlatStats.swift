/// The flat `key=value` figures cAdvisor's stdout and statsd drivers send per sample (spec §2.1,
/// §2.2), in one fixed order (cAdvisor's order is Go's random map order). Counters go out as raw
/// totals; "network" is the first container interface (cAdvisor's `Network.InterfaceStats`).
enum FlatStats {
    /// stdout's keys (without `timestamp`); `statsd` adds CPU system/user, load average, rss and
    /// mapped file, as cAdvisor's statsd driver does.
    static func values(_ s: ContainerSample, statsd: Bool) -> [(String, UInt64)] {
        var out: [(String, UInt64)] = []
        forEach(s, statsd: statsd) { device, key, value in
            out.append((device.map { "\($0).\(key)" } ?? "\(key)", value))
        }
        return out
    }

    /// The figures of `values`, in its order, without building them: `body(device, key, value)` with
    /// `device` set for a filesystem's own figures, whose key is `<device>.<key>`.
    @inline(__always)
    static func forEach(_ s: ContainerSample, statsd: Bool, _ body: (String?, StaticString, UInt64) -> Void) {
        body(nil, "cpu_cumulative_usage", s.cpu.usage.total)
        if statsd {
            body(nil, "cpu_usage_system", s.cpu.usage.system)
            body(nil, "cpu_usage_user", s.cpu.usage.user)
            body(nil, "cpu_load_average", 0) // cAdvisor's load reader is off by default: 0, as in its JSON
        }
        body(nil, "memory_usage", s.memory.usage)
        body(nil, "memory_working_set", s.memory.workingSet)
        if statsd {
            body(nil, "memory_rss", s.memory.rss)
            body(nil, "memory_mapped_file", s.memory.mappedFile)
        }
        let net = firstInterface(s)
        body(nil, "rx_bytes", net?.rxBytes ?? 0)
        body(nil, "rx_errors", net?.rxErrors ?? 0)
        body(nil, "tx_bytes", net?.txBytes ?? 0)
        body(nil, "tx_errors", net?.txErrors ?? 0)
        var limit: UInt64 = 0, usage: UInt64 = 0
        let filesystems = s.filesystems
        for fs in filesystems {
            body(fs.device, "fs_limit", fs.capacity)
            body(fs.device, "fs_usage", fs.usage)
            limit = limit.saturatingAdd(fs.capacity)
            usage = usage.saturatingAdd(fs.usage)
        }
        body(nil, "fs_summary.fs_limit", limit)
        body(nil, "fs_summary.fs_usage", usage)
    }

    /// cAdvisor's `Network.InterfaceStats`: a copy of `Interfaces[0]`, the first interface that is
    /// not lo/veth/docker (the sample's list already leaves those out).
    static func firstInterface(_ s: ContainerSample) -> NetInterfaceStats? {
        s.network.first { $0.isContainerInterface }
    }
}
