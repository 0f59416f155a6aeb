import CCgroupFast

/// Reusable memory for reading samples: the read buffer and the C sample and spec structs.
/// Allocated once per sampling thread so that reading a sample allocates nothing.
/// Not thread-safe: one scratch per thread.
public final class SampleScratch {
    /// Large enough for cpuacct.usage_percpu of 1024 CPUs and any v1/v2 memory.stat.
    public static let defaultBufferSize = 64 * 1024

    let buffer: UnsafeMutablePointer<CChar>
    let bufferSize: Int
    let sample: UnsafeMutablePointer<cgf_sample>
    let spec: UnsafeMutablePointer<cgf_spec>

    public init(bufferSize: Int = SampleScratch.defaultBufferSize) {
        self.bufferSize = max(bufferSize, 4096)
        buffer = .allocate(capacity: self.bufferSize)
        sample = .allocate(capacity: 1)
        sample.initialize(to: cgf_sample())
        spec = .allocate(capacity: 1)
        spec.initialize(to: cgf_spec())
    }

    deinit {
        buffer.deallocate()
        sample.deallocate()
        spec.deallocate()
    }
}
