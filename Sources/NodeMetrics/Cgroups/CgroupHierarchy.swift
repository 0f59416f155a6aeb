import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// The opened cgroup hierarchies of the host: one directory descriptor per mounted controller.
/// Cgroup handles keep their hierarchy alive.
public final class CgroupHierarchy: @unchecked Sendable {
    // @unchecked: the C struct is written only in init and deinit; reads are of immutable fds.
    let raw: UnsafeMutablePointer<cgf_hierarchy>
    public let layout: CgroupLayout

    /// Opens the hierarchies of `layout`. `hugePageSizesKB` lists the host's huge page sizes
    /// (see `HugePages.sizesKB`) so the hugetlb files of each size can be found.
    public init(layout: CgroupLayout, hugePageSizesKB: [UInt64] = []) throws(CgroupError) {
        self.layout = layout
        raw = .allocate(capacity: 1)
        raw.initialize(to: cgf_hierarchy())
        var cPaths: [UnsafeMutablePointer<CChar>?] = Array(repeating: nil, count: Int(CGF_CTRL_COUNT.rawValue))
        for (controller, path) in layout.mountPoints { cPaths[controller.cIndex] = strdup(path) }
        defer { cPaths.forEach { free($0) } }
        let rc = cPaths.withUnsafeBufferPointer { paths in
            paths.withMemoryRebound(to: UnsafePointer<CChar>?.self) { constPaths in
                hugePageSizesKB.withUnsafeBufferPointer { sizes in
                    cgf_hierarchy_open(raw, layout.mode.cValue, constPaths.baseAddress, sizes.baseAddress,
                                       UInt32(sizes.count))
                }
            }
        }
        guard rc == Int32(CGF_OK) else {
            // deinit runs for a fully initialized instance and releases raw.
            throw .noHierarchy("none of \(layout.mountPoints.values.sorted()) could be opened")
        }
    }

    deinit {
        cgf_hierarchy_close(raw)
        raw.deallocate()
    }
}
