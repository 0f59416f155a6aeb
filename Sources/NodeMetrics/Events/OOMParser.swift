import FoundationEssentials

/// An OOM kill read from the kernel log.
public struct OOMInstance: Sendable, Equatable {
    public var pid: Int
    public var processName: String
    /// Nanoseconds since the epoch.
    public var timestampNanos: Int64
    /// The cgroup of the killed task (`task_memcg`; "Task in X" on old kernels).
    public var containerName: String
    /// The cgroup whose limit was hit (`oom_memcg`; "limit of Y" on old kernels).
    public var victimContainerName: String
    public var constraint: String
}

/// Turns kernel log messages into OOM instances, as cAdvisor's oomparser: a kill starts at
/// "invoked oom-killer:", gets its cgroups from "oom-kill:constraint=…,oom_memcg=…,task_memcg=…,
/// task=…,pid=…" (kernels ≥ 4.19) or "Task in X killed as a result of limit of Y" (older), and ends
/// at "Killed process PID (NAME)" (also in "Memory cgroup out of memory: Killed process …").
public struct OOMParser {
    private var current: OOMInstance?

    public init() {}

    /// Feeds one message (without the kmsg header); returns an instance when one completes.
    public mutating func feed(_ message: Substring, timestampNanos: Int64) -> OOMInstance? {
        if message.includes("invoked oom-killer:") {
            current = OOMInstance(pid: 0, processName: "", timestampNanos: timestampNanos, containerName: "/",
                                  victimContainerName: "/", constraint: "")
            return nil
        }
        guard var instance = current else { return nil }
        if let range = message.firstRange(of: "oom-kill:") {
            var fields: [Substring: Substring] = [:]
            for part in message[range.upperBound...].split(separator: ",") {
                guard let eq = part.firstIndex(of: "=") else { continue }
                fields[part[..<eq]] = part[part.index(after: eq)...]
            }
            instance.constraint = String(fields["constraint"] ?? "")
            if let memcg = fields["oom_memcg"] { instance.victimContainerName = Self.cgroupName(memcg) }
            if let memcg = fields["task_memcg"] { instance.containerName = Self.cgroupName(memcg) }
            if let task = fields["task"] { instance.processName = String(task) }
            if let pid = fields["pid"].flatMap({ Int($0) }) { instance.pid = pid }
            current = instance
        } else if let range = message.firstRange(of: "Task in "), let limit = message.firstRange(of: " killed as a result of limit of ") {
            instance.containerName = Self.cgroupName(message[range.upperBound..<limit.lowerBound])
            instance.victimContainerName = Self.cgroupName(message[limit.upperBound...])
            current = instance
        } else if let range = message.firstRange(of: "Killed process ") {
            let rest = message[range.upperBound...]
            guard let open = rest.firstIndex(of: "("), let pid = Int(rest[..<open].trimmed),
                  let close = rest[open...].firstIndex(of: ")") else { return nil }
            instance.pid = pid
            instance.processName = String(rest[rest.index(after: open)..<close])
            current = nil
            return instance
        }
        return nil
    }

    /// path.Join("/", name): absolute, without a trailing slash.
    static func cgroupName(_ s: Substring) -> String {
        let parts = s.trimmed.split(separator: "/")
        return "/" + parts.joined(separator: "/")
    }
}

/// One /dev/kmsg record: "prio,seq,usec,flags;message" (Documentation/ABI/testing/dev-kmsg).
public struct KmsgRecord: Sendable, Equatable {
    public var sequence: UInt64
    /// Microseconds since boot.
    public var monotonicMicros: UInt64
    public var message: Substring

    /// Parses a record; continuation lines (" KEY=value") after the message are dropped.
    public init?(_ text: Substring) {
        guard let semicolon = text.firstIndex(of: ";") else { return nil }
        let header = text[..<semicolon].split(separator: ",")
        guard header.count >= 3, let seq = UInt64(header[1]), let usec = UInt64(header[2]) else { return nil }
        sequence = seq
        monotonicMicros = usec
        let body = text[text.index(after: semicolon)...]
        message = body.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? body
    }
}
