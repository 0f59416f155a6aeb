/// One `machine_*` family (cAdvisor's machine collector): labelled with `boot_id`, `machine_id` and
/// `system_uuid`, stamped with the machine info's time.
struct MachineFamily: Sendable {
    let name: String
    let help: String
    let kind: MetricKind?
    let extraLabels: [String]
    let values: @Sendable (MachineInfo, inout MetricSeriesSink) -> Void

    init(_ name: String, _ kind: MetricKind?, _ help: String, labels: [String] = [],
         _ values: @escaping @Sendable (MachineInfo, inout MetricSeriesSink) -> Void) {
        self.name = name
        self.help = help
        self.kind = kind
        extraLabels = labels
        self.values = values
    }

    static let schema = LabelSchema(names: ["boot_id", "machine_id", "system_uuid"])

    /// Sorted by name. `machine_scrape_error` has no labels and no timestamp (the exporter knows).
    static let all: [MachineFamily] = {
        var f: [MachineFamily] = []
        f.append(.init("machine_cpu_books", nil, "Number of CPU books.") { _, s in s.add(0) })
        f.append(.init("machine_cpu_cache_capacity_bytes", .cpuTopology, "Cache size in bytes assigned to NUMA node and CPU core.",
                       labels: ["node_id", "core_id", "type", "level"]) { m, s in
            // One series per label set (Prometheus rejects duplicates; cAdvisor can emit them): a core
            // id that repeats in a node (cores of two sockets) keeps the first core's caches, and the
            // node's shared caches of one type and level (one L3 per socket) are summed.
            for node in m.topology {
                var seen = Set<String>()
                for core in node.cores {
                    for cache in core.caches + core.uncoreCaches
                    where seen.insert("\(core.coreID)/\(cache.type)/\(cache.level)").inserted {
                        s.add(Double(cache.size), String(node.nodeID), String(core.coreID), cache.type, String(cache.level))
                    }
                }
                var shared: [(type: String, level: Int, size: UInt64)] = []
                for cache in node.caches {
                    if let i = shared.firstIndex(where: { $0.type == cache.type && $0.level == cache.level }) {
                        shared[i].size = shared[i].size.saturatingAdd(cache.size)
                    } else {
                        shared.append((cache.type, cache.level, cache.size))
                    }
                }
                for cache in shared {
                    s.add(Double(cache.size), String(node.nodeID), "", cache.type, String(cache.level))
                }
            }
        })
        f.append(.init("machine_cpu_cores", nil, "Number of logical CPU cores.") { m, s in s.add(Double(m.numCores)) })
        f.append(.init("machine_cpu_drawers", nil, "Number of CPU drawers.") { _, s in s.add(0) })
        f.append(.init("machine_cpu_physical_cores", nil, "Number of physical CPU cores.") { m, s in
            s.add(Double(m.numPhysicalCores))
        })
        f.append(.init("machine_cpu_sockets", nil, "Number of CPU sockets.") { m, s in s.add(Double(m.numSockets)) })
        // machine_dimm_capacity_bytes / machine_dimm_count come from EDAC memory-by-type data, which
        // this host does not have; like cAdvisor, no data means no series.
        f.append(.init("machine_memory_bytes", nil, "Amount of memory installed on the machine.") { m, s in
            s.add(Double(m.memoryCapacity))
        })
        f.append(.init("machine_node_distance", .cpuTopology, "Distance between NUMA node and target NUMA node.",
                       labels: ["node_id", "target_node_id"]) { m, s in
            for node in m.topology {
                for (target, d) in node.distances.enumerated() { s.add(Double(d), String(node.nodeID), String(target)) }
            }
        })
        f.append(.init("machine_node_hugepages_count", .cpuTopology, "Numer of hugepages assigned to NUMA node.",
                       labels: ["node_id", "page_size"]) { m, s in
            for node in m.topology {
                for h in node.hugePages { s.add(Double(h.numPages), String(node.nodeID), String(h.pageSizeKB)) }
            }
        })
        f.append(.init("machine_node_memory_capacity_bytes", .cpuTopology, "Amount of memory assigned to NUMA node.",
                       labels: ["node_id"]) { m, s in
            for node in m.topology { s.add(Double(node.memory), String(node.nodeID)) }
        })
        f.append(.init("machine_nvm_avg_power_budget_watts", nil, "NVM power budget.") { _, s in s.add(0) })
        f.append(.init("machine_nvm_capacity", nil,
                       "NVM capacity value labeled by NVM mode (memory mode or app direct mode).", labels: ["mode"]) { _, s in
            s.add(0, "app_direct_mode")
            s.add(0, "memory_mode")
        })
        f.append(.init("machine_scrape_error", nil, "1 if there was an error while getting machine metrics, 0 otherwise.") { m, s in
            s.add(m.scrapeErrors.isEmpty ? 0 : 1)
        })
        f.append(.init("machine_swap_bytes", nil, "Amount of swap memory available on the machine.") { m, s in
            s.add(Double(m.swapCapacity))
        })
        f.append(.init("machine_thread_siblings_count", .cpuTopology, "Number of CPU thread siblings.",
                       labels: ["node_id", "core_id", "thread_id"]) { m, s in
            for node in m.topology {
                for core in node.cores {
                    for t in core.threadIDs {
                        s.add(Double(core.threadIDs.count), String(node.nodeID), String(core.coreID), String(t))
                    }
                }
            }
        })
        return f.sorted { $0.name < $1.name }
    }()
}
