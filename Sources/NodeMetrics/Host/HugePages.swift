import FoundationEssentials

/// The host's huge page sizes, from /sys/kernel/mm/hugepages (`hugepages-2048kB`).
public enum HugePages {
    /// Page sizes in KiB, ascending; empty when the kernel has none.
    public static func sizesKB(paths: HostPaths) -> [UInt64] {
        let dir = paths.path("/sys/kernel/mm/hugepages")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        return names.compactMap { name -> UInt64? in
            guard name.hasPrefix("hugepages-"), name.hasSuffix("kB") else { return nil }
            return UInt64(name.dropFirst("hugepages-".count).dropLast(2))
        }.sorted()
    }
}
