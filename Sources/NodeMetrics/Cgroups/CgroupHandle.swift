import CCgroupFast

/// One cgroup, opened in every hierarchy that has it. With `keepDescriptors` each of its sample
/// files is opened once and read with pread from then on; reading the raw sample allocates nothing.
public final class CgroupHandle {
    /// The cgroup's absolute name (`/`, `/docker/<id>`).
    public let name: String
    public let hierarchy: CgroupHierarchy
    let raw: UnsafeMutablePointer<cgf_cgroup>

    public init(hierarchy: CgroupHierarchy, name: String, keepDescriptors: Bool = true) throws(CgroupError) {
        self.name = name
        self.hierarchy = hierarchy
        raw = .allocate(capacity: 1)
        raw.initialize(to: cgf_cgroup())
        let rc = cgf_cgroup_open(raw, hierarchy.raw, name, keepDescriptors ? 1 : 0)
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
    }

    /// Descriptors this handle keeps open.
    public var openDescriptors: Int { Int(cgf_cgroup_fd_count(raw)) }

    /// Reads the sample into `scratch` without converting it: the zero-allocation path.
    /// Returns the C status (CGF_OK, CGF_EPARTIAL or CGF_EGONE).
    @inline(__always)
    public func readRaw(into scratch: SampleScratch) -> Int32 {
        cgf_cgroup_read_sample(raw, scratch.sample, scratch.buffer, scratch.bufferSize)
    }

    /// Reads and converts one sample. Files that fail are listed in `errors`; the cgroup having
    /// disappeared throws `.gone`.
    public func sample(using scratch: SampleScratch) throws(CgroupError) -> ContainerSample {
        let rc = readRaw(into: scratch)
        if rc == Int32(CGF_EGONE) { throw .gone(name: name) }
        guard rc == Int32(CGF_OK) || rc == Int32(CGF_EPARTIAL) else { throw .failed(name: name, status: rc) }
        return SampleConversion.sample(scratch.sample, handle: raw, mode: hierarchy.layout.mode)
    }

    /// Reads the cgroup's limits.
    public func spec(using scratch: SampleScratch) throws(CgroupError) -> CgroupSpec {
        let rc = cgf_cgroup_read_spec(raw, scratch.spec, scratch.buffer, scratch.bufferSize)
        if rc == Int32(CGF_EGONE) { throw .gone(name: name) }
        guard rc == Int32(CGF_OK) || rc == Int32(CGF_EPARTIAL) else { throw .failed(name: name, status: rc) }
        return SampleConversion.spec(scratch.spec, mode: hierarchy.layout.mode)
    }
}
