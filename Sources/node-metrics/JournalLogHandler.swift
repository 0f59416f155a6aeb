import CCgroupFast
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// swift-log handler writing structured entries to the systemd journal (used when JOURNAL_STREAM
/// says standard error is the journal): MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, LOGGER and every
/// metadata key as an upper-case journal field.
struct JournalLogHandler: LogHandler {
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

    /// A journal field name: upper case letters, digits and underscores, not starting with one.
    static func fieldName(_ key: String) -> String {
        let cleaned = String(key.uppercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber ? $0 : "_" })
        return "NM_" + cleaned
    }

    func log(event: LogEvent) {
        var fields = ["MESSAGE=\(event.message)", "PRIORITY=\(Self.priority(event.level))",
                      "SYSLOG_IDENTIFIER=node-metrics", "LOGGER=\(label)"]
        for (k, v) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }).prefix(56) {
            fields.append("\(Self.fieldName(k))=\(v)")
        }
        var cStrings = fields.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        cStrings.withUnsafeMutableBufferPointer { buffer in
            buffer.withMemoryRebound(to: UnsafePointer<CChar>?.self) { _ = cgf_journal_send($0.baseAddress, Int32($0.count)) }
        }
    }
}
