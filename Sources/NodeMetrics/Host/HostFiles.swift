import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads of host files: /proc and /sys facts, cgroup files the C core does not sample
/// (`cgroup.procs`, `tasks`, `memory.numa_stat`), configuration files.
enum HostFiles {
    /// The largest file read (256 MiB); a larger one reads as unreadable.
    static let maxBytes = 256 << 20

    /// The file's text (invalid UTF-8 repaired), or nil when it cannot be read or is not a regular
    /// file. Kernel files report a size of 0 or 4096 whatever they hold, so the file is read to its
    /// end with the C core's `cgf_read_fd` into a buffer that starts at 16 KiB and doubles until the
    /// whole file fits; the text is then copied out at its own size.
    ///
    /// Not `FileManager.contents(atPath:)`: for a file that reports a size of 0, FoundationEssentials
    /// (swift-foundation as shipped with Swift 6.3) mallocs a 4 KiB chunk to read into, and when the
    /// file turns out empty it returns an empty `Data` without freeing the chunk. The `cgroup.procs` of
    /// an empty cgroup is such a file and is read at every sample of it, so each cgroup that lived
    /// empty for a moment (runtimes create the cgroup before moving the process in) leaked 4 KiB —
    /// the growth the churn soak (`Benchmarks/churn-soak.sh`) measured.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) // a FIFO must not block the open
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        var capacity = 16 * 1024
        while capacity <= maxBytes {
            let (status, text) = withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
                var length = 0
                let status = cgf_read_fd(fd, buffer.baseAddress, buffer.count, &length)
                guard status == Int32(CGF_OK) else { return (status, String?.none) }
                return (status, String(decoding: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer)[..<length]),
                                       as: UTF8.self))
            }
            if let text { return text }
            guard status == Int32(CGF_ETOOBIG) else { return nil }
            capacity *= 2
        }
        return nil
    }

    /// The file's first line without surrounding whitespace, or nil when unreadable or empty.
    static func firstLine(_ path: String) -> String? {
        guard let text = read(path) else { return nil }
        let line = text.split(separator: "\n", maxSplits: 1).first.map {
            $0.trimmed
        }
        return (line?.isEmpty ?? true) ? nil : line
    }
}
