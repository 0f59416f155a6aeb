/// The flat `key=value` figures cAdvisor's stdout and statsd drivers send per sample (spec §2.1,
/// §2.2), in one fixed order (cAdvisor's order is Go's random map order). Counters go out as raw
/// totals; "network" is the first container interface (cAdvisor's `Network.InterfaceStats`).
enum FlatStats {
    /// stdout's keys (without `timestamp`); `statsd` adds CPU system/user, load average, rss and
    /// mapped file, as cAdvisor's statsd driver does.
    static func values(_ s: ContainerSample, statsd: Bool) -> [(String, UInt64)] {
        var out: [(String, UInt64)] = [("cpu_cumulative_usage", s.cpu.usage.total)]
        if statsd {
            out.append(("cpu_usage_system", s.cpu.usage.system))
            out.append(("cpu_usage_user", s.cpu.usage.user))
            out.append(("cpu_load_average", 0)) // cAdvisor's load reader is off by default: 0, as in its JSON
        }
        out.append(("memory_usage", s.memory.usage))
        out.append(("memory_working_set", s.memory.workingSet))
        if statsd {
            out.append(("memory_rss", s.memory.rss))
            out.append(("memory_mapped_file", s.memory.mappedFile))
        }
        let net = firstInterface(s)
        out.append(("rx_bytes", net?.rxBytes ?? 0))
        out.append(("rx_errors", net?.rxErrors ?? 0))
        out.append(("tx_bytes", net?.txBytes ?? 0))
        out.append(("tx_errors", net?.txErrors ?? 0))
        var limit: UInt64 = 0, usage: UInt64 = 0
        for fs in s.filesystems {
            out.append(("\(fs.device).fs_limit", fs.capacity))
            out.append(("\(fs.device).fs_usage", fs.usage))
            limit = limit.saturatingAdd(fs.capacity)
            usage = usage.saturatingAdd(fs.usage)
        }
        out.append(("fs_summary.fs_limit", limit))
        out.append(("fs_summary.fs_usage", usage))
        return out
    }

    /// cAdvisor's `Network.InterfaceStats`: a copy of `Interfaces[0]`, the first interface that is
    /// not lo/veth/docker (the sample's list already leaves those out).
    static func firstInterface(_ s: ContainerSample) -> NetInterfaceStats? {
        s.network.first { $0.isContainerInterface }
    }
}
