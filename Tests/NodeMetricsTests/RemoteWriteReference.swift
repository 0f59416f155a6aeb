import Foundation
@testable import NodeMetrics

// The text path remote write had before it collected series straight from the families: render the
// exposition, parse its lines back into series. Kept here as the reference the builder must match
// (RemoteWriteTests.theBuilderMatchesTheTextPath…).

/// One series of a remote-write request: its labels (`__name__` included) sorted by name bytes,
/// and one sample.
struct RemoteWriteSeries: Sendable, Equatable {
    var labels: [(name: String, value: String)]
    var value: Double
    var timestampMillis: Int64

    init(labels: [(name: String, value: String)], value: Double, timestampMillis: Int64) {
        self.labels = labels
        self.value = value
        self.timestampMillis = timestampMillis
    }

    static func == (a: Self, b: Self) -> Bool {
        a.labels.elementsEqual(b.labels, by: { $0 == $1 }) && a.timestampMillis == b.timestampMillis
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

extension RemoteWriteEncoding {
    /// The serialized WriteRequest.
    static func writeRequest(_ series: [RemoteWriteSeries]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(series.count * 160)
        for s in series {
            appendTimeSeries(labels: labelFields(s.labels), value: s.value, timestampMillis: s.timestampMillis, to: &out)
        }
        return out
    }


    /// Encodes one exposition after another into WriteRequests as `series(fromExposition:)` and
    /// `writeRequest` would, keeping each series' encoded labels (keyed by the line's name and label
    /// text) from one render to the next: label sets rarely change, so a render parses only the
    /// values of known series. Entries not seen in a render are forgotten (bounded by the exposition).
    struct RequestEncoder {
        /// A series' name and label text, hashed and compared as bytes in bulk.
        private struct Key: Hashable {
            var bytes: ArraySlice<UInt8>
            func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
            static func == (a: Key, b: Key) -> Bool {
                a.bytes.count == b.bytes.count && a.bytes.withUnsafeBytes { x in
                    b.bytes.withUnsafeBytes { y in
                        guard let p = x.baseAddress, let q = y.baseAddress else { return x.count == y.count }
                        return memcmp(p, q, x.count) == 0
                    }
                }
            }
        }
        private struct Entry {
            var labels: [UInt8]
            /// The last render that had the series.
            var render: UInt64
        }
        /// Keys own their bytes (a slice of one exposition would keep that whole text alive).
        private var cache: [Key: Entry] = [:]
        private var renders: UInt64 = 0

        init() {}

        /// The serialized WriteRequest of `text` and its number of samples.
        mutating func encode(exposition text: [UInt8], timestampMillis: Int64,
                                    external: [(name: String, value: String)] = []) -> (request: [UInt8], samples: Int) {
            renders &+= 1
            var out: [UInt8] = []
            out.reserveCapacity(cache.count * 160)
            var samples = 0
            var lineStart = 0
            let n = text.count
            while lineStart < n {
                var lineEnd = lineStart
                while lineEnd < n && text[lineEnd] != 0x0A { lineEnd += 1 }
                let line = text[lineStart..<lineEnd]
                lineStart = lineEnd + 1
                guard !line.isEmpty, line.first != UInt8(ascii: "#"), let keyEnd = RemoteWriteEncoding.seriesKeyEnd(line) else { continue }
                let key = Key(bytes: line[..<keyEnd])
                if let i = cache.index(forKey: key), let (value, timestamp) = RemoteWriteEncoding.sampleFields(line[keyEnd...], timestampMillis) {
                    cache.values[i].render = renders
                    RemoteWriteEncoding.appendTimeSeries(labels: cache.values[i].labels, value: value, timestampMillis: timestamp, to: &out)
                } else if let s = RemoteWriteEncoding.parseLine(line, timestampMillis, external) {
                    let labels = RemoteWriteEncoding.labelFields(s.labels)
                    cache[Key(bytes: ArraySlice(Array(key.bytes)))] = Entry(labels: labels, render: renders)
                    RemoteWriteEncoding.appendTimeSeries(labels: labels, value: s.value, timestampMillis: s.timestampMillis, to: &out)
                } else {
                    continue
                }
                samples += 1
            }
            if cache.count > samples { cache = cache.filter { $0.value.render == renders } } // series gone
            return (out, samples)
        }
    }


    /// The series of a text exposition as the exporter writes it (`/metrics`): one per sample line,
    /// with `__name__`, the line's labels minus empty values (Prometheus treats an empty label as
    /// absent; remote write forbids them), `external` labels the series lacks, all sorted by name
    /// bytes, and `timestampMillis` unless the line carries its own.
    static func series(fromExposition text: [UInt8], timestampMillis: Int64,
                              external: [(name: String, value: String)] = []) -> [RemoteWriteSeries] {
        var result: [RemoteWriteSeries] = []
        var lineStart = 0
        let n = text.count
        while lineStart < n {
            var lineEnd = lineStart
            while lineEnd < n && text[lineEnd] != 0x0A { lineEnd += 1 }
            if lineEnd > lineStart && text[lineStart] != UInt8(ascii: "#"),
               let s = parseLine(text[lineStart..<lineEnd], timestampMillis, external) {
                result.append(s)
            }
            lineStart = lineEnd + 1
        }
        return result
    }

    static func parseLine(_ line: ArraySlice<UInt8>, _ defaultTimestamp: Int64,
                          _ external: [(name: String, value: String)]) -> RemoteWriteSeries? {
        var i = line.startIndex
        while i < line.endIndex && line[i] != UInt8(ascii: "{") && line[i] != 0x20 { i += 1 }
        guard i > line.startIndex else { return nil }
        var labels: [(name: String, value: String)] = [("__name__", String(decoding: line[line.startIndex..<i], as: UTF8.self))]
        if i < line.endIndex && line[i] == UInt8(ascii: "{") {
            i += 1
            while i < line.endIndex && line[i] != UInt8(ascii: "}") {
                if line[i] == UInt8(ascii: ",") { i += 1; continue }
                let nameStart = i
                while i < line.endIndex && line[i] != UInt8(ascii: "=") { i += 1 }
                let name = String(decoding: line[nameStart..<i], as: UTF8.self)
                i += 1 // =
                guard i < line.endIndex, line[i] == UInt8(ascii: "\"") else { return nil }
                i += 1
                var value: [UInt8] = []
                while i < line.endIndex && line[i] != UInt8(ascii: "\"") {
                    if line[i] == UInt8(ascii: "\\"), i + 1 < line.endIndex {
                        i += 1
                        value.append(line[i] == UInt8(ascii: "n") ? 0x0A : line[i])
                    } else {
                        value.append(line[i])
                    }
                    i += 1
                }
                guard i < line.endIndex else { return nil }
                i += 1 // closing quote
                if !value.isEmpty { labels.append((name, String(decoding: value, as: UTF8.self))) }
            }
            guard i < line.endIndex else { return nil }
            i += 1 // }
        }
        guard let (value, timestamp) = sampleFields(line[i...], defaultTimestamp) else { return nil }
        for e in external where !labels.contains(where: { $0.name == e.name }) { labels.append(e) }
        labels.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return RemoteWriteSeries(labels: labels, value: value, timestampMillis: timestamp)
    }

    /// The value and optional timestamp after a sample line's name and labels.
    static func sampleFields(_ rest: ArraySlice<UInt8>, _ defaultTimestamp: Int64) -> (Double, Int64)? {
        let fields = rest.split(separator: 0x20)
        guard let valueText = fields.first else { return nil }
        let text = String(decoding: valueText, as: UTF8.self)
        let value: Double
        switch text {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            guard let v = Double(text) else { return nil }
            value = v
        }
        var timestamp = defaultTimestamp
        if fields.count > 1, let t = Int64(String(decoding: fields[fields.startIndex + 1], as: UTF8.self)) { timestamp = t }
        return (value, timestamp)
    }

    /// Where a sample line's name and labels end (after `}`, or the name when it has no labels);
    /// quoted label values may hold any byte, `\"` included. Nil when the line is cut short.
    static func seriesKeyEnd(_ line: ArraySlice<UInt8>) -> Int? {
        var i = line.startIndex
        while i < line.endIndex && line[i] != UInt8(ascii: "{") && line[i] != 0x20 { i += 1 }
        guard i > line.startIndex else { return nil }
        guard i < line.endIndex, line[i] == UInt8(ascii: "{") else { return i }
        var quoted = false
        i += 1
        while i < line.endIndex {
            switch line[i] {
            case UInt8(ascii: "\\") where quoted: i += 1
            case UInt8(ascii: "\""): quoted.toggle()
            case UInt8(ascii: "}") where !quoted: return i + 1
            default: break
            }
            i += 1
        }
        return nil
    }
}
