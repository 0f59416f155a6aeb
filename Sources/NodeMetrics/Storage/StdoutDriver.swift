#if canImport(Glibc)
import Glibc
#endif

/// `-storage_driver=stdout`: cAdvisor's line per sample on standard output (spec §2.1):
/// `cName=<name> host=<storage_driver_host> timestamp=<now ns> cpu_cumulative_usage=… …`.
/// Keys come in one fixed order (cAdvisor's is random); `timestamp` is the print time, as cAdvisor's.
public final class StdoutDriver: StorageDriver {
    public let name: String
    let host: String
    let output: Int32

    public init(name: String = "stdout", options: StorageOptions, output: Int32 = STDOUT_FILENO) {
        self.name = name
        host = options.host
        self.output = output
    }

    public var destination: String { "standard output" }

    /// One sample's line (no newline).
    static func line(_ s: StoredSample, host: String, now: Int64) -> String {
        var line = "cName=\(s.referenceName) host=\(host) timestamp=\(now)"
        for (key, value) in FlatStats.values(s.sample, statsd: false) { line += " \(key)=\(value)" }
        return line
    }

    public func write(_ batch: [StoredSample]) throws {
        var text = ""
        for s in batch { text += Self.line(s, host: host, now: Clocks.wallNanos()) + "\n" }
        try FileOutput.writeAll(output, Array(text.utf8), name: "standard output")
    }

    public func close() {}
}

/// Blocking writes of whole buffers to a descriptor (stdout, a socket), retrying on EINTR.
enum FileOutput {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], name: String) throws(Failure) {
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == ENOTSOCK {
                let w = bytes[done...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if w > 0 { done += w; continue }
                if w < 0 && errno == EINTR { continue }
                throw Failure(description: "\(name): \(String(cString: strerror(errno)))")
            }
            if n > 0 { done += n; continue }
            if n < 0 && errno == EINTR { continue }
            throw Failure(description: "\(name): \(n == 0 ? "nothing written" : String(cString: strerror(errno)))")
        }
    }
}
