import FoundationEssentials

/// Small whole-file reads for host facts that are read rarely (not on the sampling path).
enum HostFiles {
    /// The file's text, or nil when it cannot be read.
    static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
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
