/// One line of `/proc/<pid>/mountinfo` (proc(5)).
public struct MountEntry: Sendable, Equatable {
    /// The mount's root within its filesystem (field 4).
    public var root: String
    /// Where it is mounted (field 5).
    public var mountPoint: String
    /// Filesystem type after the separator (`cgroup`, `cgroup2`, `ext4`, ...).
    public var fsType: String
    /// Mount source (`/dev/vda1`, `cgroup`, ...).
    public var source: String
    /// Per-superblock options (`rw,cpu,cpuacct` for a v1 cgroup mount).
    public var superOptions: [String]
    /// Major:minor of the mounted device.
    public var major: UInt32
    public var minor: UInt32
}

/// Parses mountinfo text. Malformed lines are reported, not skipped silently.
public enum MountInfo {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let text: String
        public var description: String { "mountinfo line \(line) is malformed: \(text)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> [MountEntry] {
        var entries: [MountEntry] = []
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            lineNumber += 1
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let sep = fields.firstIndex(of: "-"), sep >= 6, fields.count >= sep + 3 else {
                throw ParseError(line: lineNumber, text: String(line))
            }
            let dev = fields[2].split(separator: ":")
            guard dev.count == 2, let major = UInt32(dev[0]), let minor = UInt32(dev[1]) else {
                throw ParseError(line: lineNumber, text: String(line))
            }
            entries.append(MountEntry(
                root: unescape(fields[3]),
                mountPoint: unescape(fields[4]),
                fsType: String(fields[sep + 1]),
                source: unescape(fields[sep + 2]),
                superOptions: fields.count > sep + 3 ? fields[sep + 3].split(separator: ",").map(String.init) : [],
                major: major, minor: minor))
        }
        return entries
    }

    /// Undoes the kernel's octal escapes (`\040` for a space).
    static func unescape(_ s: Substring) -> String {
        guard s.includes("\\") else { return String(s) }
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "\\"), i + 3 < u.count,
               let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v)
                i += 4
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
