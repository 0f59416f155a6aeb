import CCgroupFast
import Logging
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// swift-log handler of the agent: structured entries to the systemd journal when JOURNAL_STREAM says
/// standard error is the journal, otherwise logfmt lines on standard error
/// (`time=2026-11-22T12:00:00.123Z level=info logger=… msg="…" key=value`).
struct AgentLogHandler: LogHandler {
    enum Output { case journal, logfmt }

    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level
    let label: String
    let output: Output

    init(label: String, level: Logger.Level, output: Output) {
        self.label = label
        logLevel = level
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        switch output {
        case .journal: journal(event, fields)
        case .logfmt: logfmt(event, fields)
        }
    }

    // MARK: logfmt

    private func logfmt(_ event: LogEvent, _ fields: [(key: String, value: Logger.MetadataValue)]) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let time = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
        var out = "time=\(GoTime.rfc3339Nano(nanosSinceEpoch: time)) level=\(event.level) logger=\(label) msg=\(Self.quote("\(event.message)"))"
        for (k, v) in fields { out += " \(k)=\(Self.quote("\(v)"))" }
        out += "\n"
        let bytes = Array(out.utf8)
        _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    }

    /// A logfmt value: bare when it has no space, quote or equals sign, else quoted and escaped.
    static func quote(_ s: String) -> String {
        if !s.isEmpty && !s.contains(where: { $0 == " " || $0 == "\"" || $0 == "=" || $0 == "\n" }) { return s }
        return "\"" + s.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n") + "\""
    }

    // MARK: journal

    private func journal(_ event: LogEvent, _ fields: [(key: String, value: Logger.MetadataValue)]) {
        var entry = ["MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))",
                     "SYSLOG_IDENTIFIER=node-metrics", "LOGGER=\(label)"]
        for (k, v) in fields.prefix(56) { entry.append("\(Self.fieldName(k))=\(v)") }
        var cStrings = entry.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { _ = cgf_journal_send($0.baseAddress, Int32($0.count)) }
        }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// A journal field name: upper case letters, digits and underscores, prefixed NM_.
    static func fieldName(_ key: String) -> String {
        "NM_" + String(key.uppercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber ? $0 : "_" })
    }
}
