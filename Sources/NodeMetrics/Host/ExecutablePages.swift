#if canImport(Glibc)
import Glibc
#endif

/// The agent's own executable holds the Swift runtime and every dependency, statically linked; the
/// code and tables only start-up touched (flag parsing, machine facts, TLS and client set-up, the
/// first discovery) would otherwise stay in the resident set for the process's life (23 MiB of the
/// 38 MB binary at 200 containers). Once the agent serves, its read-only mappings are handed back
/// (`MADV_PAGEOUT`); what housekeeping and scrapes use faults back in at their next run, so the
/// resident code is then their working set. Writable mappings (relocated data, .bss) are left alone.
public enum ExecutablePages {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels refuse it with EINVAL, which changes nothing.
    static let pageOutAdvice: Int32 = 21

    /// Pages out the executable's read-only mappings; returns the bytes advised.
    @discardableResult
    public static func pageOut() -> Int {
        guard let maps = HostFiles.read("/proc/self/maps") else { return 0 }
        var executable: String?
        var advised = 0
        for line in maps.split(separator: "\n") {
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6 else { continue }
            let path = fields[5].trimmed
            if executable == nil { executable = path } // the first mapping is the executable's
            guard path == executable, !fields[1].includes("w"),
                  let dash = fields[0].firstIndex(of: "-"),
                  let start = UInt(fields[0][..<dash], radix: 16),
                  let end = UInt(fields[0][fields[0].index(after: dash)...], radix: 16), end > start,
                  let address = UnsafeMutableRawPointer(bitPattern: start) else { continue }
            if madvise(address, Int(end - start), pageOutAdvice) == 0 { advised += Int(end - start) }
        }
        return advised
    }
}
