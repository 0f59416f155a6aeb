import FoundationEssentials

/// The host's huge page sizes and pool sizes, from /sys/kernel/mm/hugepages (`hugepages-2048kB`)
/// or a NUMA node's `hugepages` directory.
public enum HugePages {
    /// Page sizes in KiB, ascending; empty when the kernel has none.
    public static func sizesKB(paths: HostPaths) -> [UInt64] {
        pools(in: paths.path("/sys/kernel/mm/hugepages")).map(\.pageSizeKB)
    }

    /// Each page size with its `nr_hugepages`, ascending by size.
    static func pools(in dir: String) -> [MachineInfo.HugePage] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { name -> MachineInfo.HugePage? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB"),
                  let kb = UInt64(name.dropFirst("hugepages-".count).dropLast(2)) else { return nil }
            let pages = HostFiles.firstLine(dir + "/" + name + "/nr_hugepages").flatMap { UInt64($0) } ?? 0
            return MachineInfo.HugePage(pageSizeKB: kb, numPages: pages)
        }.sorted { $0.pageSizeKB < $1.pageSizeKB }
    }
}
