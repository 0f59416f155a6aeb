import Logging
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// swift-log handler writing logfmt lines to standard error:
/// `time=2026-11-22T12:00:00.123Z level=info msg="…" key=value`.
struct LogfmtLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String

    init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message, extra = event.metadata
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let time = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        var out = "time=\(GoTime.rfc3339Nano(nanosSinceEpoch: time)) level=\(level) logger=\(label) msg=\(Self.quote("\(message)"))"
        for (k, v) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            out += " \(k)=\(Self.quote("\(v)"))"
        }
        out += "\n"
        let bytes = Array(out.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// A logfmt value: bare when it has no space, quote or equals sign, else quoted and escaped.
    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return s }
        return "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n") + "\""
    }
}

