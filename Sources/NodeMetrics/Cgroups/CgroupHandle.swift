import CCgroupFast

/// One cgroup, opened in every hierarchy that has it. When it keeps descriptors, each of its
/// sample files is opened once and read with pread from then on; reading the raw sample
/// allocates nothing. Otherwise each read opens and closes the files.
public final class CgroupHandle {
    /// The cgroup's absolute name (`/`, `/docker/<id>`).
    public let name: String
    public let hierarchy: CgroupHierarchy
    let raw: UnsafeMutablePointer<cgf_cgroup>
    /// The budget this handle's kept descriptors are charged to, and how many.
    private let budget: DescriptorBudget?
    private var charged: Int

    /// Opens `name`; keeps descriptors when `keepDescriptors` is set.
    public convenience init(hierarchy: CgroupHierarchy, name: String, keepDescriptors: Bool = true) throws(CgroupError) {
        try self.init(hierarchy: hierarchy, name: name, keepDescriptors: keepDescriptors, budget: nil)
    }

    /// Opens `name`, keeping descriptors only while `budget` has room for them; they return to the
    /// budget when the handle goes away.
    public convenience init(hierarchy: CgroupHierarchy, name: String, budget: DescriptorBudget) throws(CgroupError) {
        let keep = budget.take(DescriptorBudget.perCgroupMaximum)
        try self.init(hierarchy: hierarchy, name: name, keepDescriptors: keep, budget: keep ? budget : nil)
    }

    private init(hierarchy: CgroupHierarchy, name: String, keepDescriptors: Bool,
                 budget: DescriptorBudget?) throws(CgroupError) {
        self.name = name
        self.hierarchy = hierarchy
        raw = .allocate(capacity: 1)
        raw.initialize(to: cgf_cgroup())
        let rc = cgf_cgroup_open(raw, hierarchy.raw, name, keepDescriptors ? 1 : 0)
        // Charge what is really open; give the rest of the reservation back at once.
        charged = Int(cgf_cgroup_fd_count(raw))
        budget?.give(DescriptorBudget.perCgroupMaximum - charged)
        self.budget = budget
        guard rc == Int32(CGF_OK) else {
            // deinit runs for a fully initialized instance and releases raw.
            switch rc {
            case Int32(CGF_ENOENT): throw .notFound(name: name)
            case Int32(CGF_EINVAL): throw .invalidName(name: name)
            default: throw .failed(name: name, status: rc)
            }
        }
    }

    deinit {
        cgf_cgroup_close(raw)
        raw.deallocate()
        budget?.give(charged)
    }

    /// Absolute paths of the files a sample reads, hugetlb files aside (diagnostics, benchmarks).
    public var sampleFilePaths: [String] {
        var buffer = [CChar](repeating: 0, count: Int(CGF_PATH_MAX) + 64)
        let mounts = Dictionary(uniqueKeysWithValues: hierarchy.layout.mountPoints.map { ($0.key.cIndex, $0.value) })
        return (0..<Int32(CGF_F_COUNT.rawValue)).compactMap { f in
            let controller = Int(cgf_cgroup_file_path(raw, f, &buffer, buffer.count))
            guard controller >= 0, let mount = mounts[controller] else { return nil }
            return mount + "/" + String(nulTerminated: buffer)
        }
    }

    /// Whether this handle keeps its files open.
    public var keepsDescriptors: Bool { raw.pointee.keep_fds != 0 }

    /// Descriptors this handle keeps open.
    public var openDescriptors: Int { Int(cgf_cgroup_fd_count(raw)) }

    /// Reads the sample into `scratch` without converting it: the zero-allocation path.
    /// Returns the C status (CGF_OK, CGF_EPARTIAL or CGF_EGONE).
    @inline(__always)
    public func readRaw(into scratch: SampleScratch) -> Int32 {
        cgf_cgroup_read_sample(raw, scratch.sample, scratch.buffer, scratch.bufferSize)
    }

    /// Reads and converts one sample. Files that fail are listed in `errors`; the cgroup having
    /// disappeared throws `.gone`. Every key of memory.stat is kept only with `includeMemoryStat`
    /// (the derived values are always there).
    public func sample(using scratch: SampleScratch, includeMemoryStat: Bool = false) throws(CgroupError) -> ContainerSample {
        let rc = readRaw(into: scratch)
        if rc == Int32(CGF_EGONE) { throw .gone(name: name) }
        guard rc == Int32(CGF_OK) || rc == Int32(CGF_EPARTIAL) else { throw .failed(name: name, status: rc) }
        // Hierarchies whose directory appeared after open add kept descriptors: charge them.
        let open = Int(raw.pointee.fd_count)
        if let budget, open != charged {
            budget.charge(open - charged)
            charged = open
        }
        return SampleConversion.sample(scratch.sample, handle: raw, mode: hierarchy.layout.mode,
                                       includeMemoryStat: includeMemoryStat)
    }

    /// Reads the cgroup's limits.
    public func spec(using scratch: SampleScratch) throws(CgroupError) -> CgroupSpec {
        let rc = cgf_cgroup_read_spec(raw, scratch.spec, scratch.buffer, scratch.bufferSize)
        if rc == Int32(CGF_EGONE) { throw .gone(name: name) }
        guard rc == Int32(CGF_OK) || rc == Int32(CGF_EPARTIAL) else { throw .failed(name: name, status: rc) }
        return SampleConversion.spec(scratch.spec, mode: hierarchy.layout.mode)
    }
}
