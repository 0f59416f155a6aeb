import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// One series of a remote-write request: its labels (`__name__` included) sorted by name bytes,
/// and one sample.
public struct RemoteWriteSeries: Sendable, Equatable {
    public var labels: [(name: String, value: String)]
    public var value: Double
    public var timestampMillis: Int64

    public init(labels: [(name: String, value: String)], value: Double, timestampMillis: Int64) {
        self.labels = labels
        self.value = value
        self.timestampMillis = timestampMillis
    }

    public static func == (a: Self, b: Self) -> Bool {
        a.labels.elementsEqual(b.labels, by: { $0 == $1 }) && a.timestampMillis == b.timestampMillis
            && (a.value == b.value || (a.value.isNaN && b.value.isNaN))
    }
}

/// Prometheus remote write 1.0 on the wire: the `prometheus.WriteRequest` protobuf (four messages,
/// encoded here by hand: `WriteRequest{TimeSeries timeseries=1}`, `TimeSeries{Label labels=1;
/// Sample samples=2}`, `Label{name=1; value=2}`, `Sample{double value=1; int64 timestamp=2}`),
/// compressed with Snappy's block format (libsnappy).
public enum RemoteWriteEncoding {
    /// The protocol's request headers (besides Content-Length and authorization).
    public static let headers: [(String, String)] = [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ("User-Agent", "node-metrics/\(AgentVersion.current)"),
    ]

    /// The serialized WriteRequest.
    public static func writeRequest(_ series: [RemoteWriteSeries]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(series.count * 160)
        for s in series {
            appendTimeSeries(labels: labelFields(s.labels), value: s.value, timestampMillis: s.timestampMillis, to: &out)
        }
        return out
    }

    /// A TimeSeries' `labels` fields (field 1, one Label message each), in the order given.
    static func labelFields(_ labels: [(name: String, value: String)]) -> [UInt8] {
        var fields: [UInt8] = [], label: [UInt8] = []
        for (name, value) in labels {
            label.removeAll(keepingCapacity: true)
            bytesField(1, Array(name.utf8), &label)
            bytesField(2, Array(value.utf8), &label)
            bytesField(1, label, &fields)
        }
        return fields
    }

    /// One WriteRequest `timeseries` field: the encoded labels and one Sample.
    static func appendTimeSeries(labels: [UInt8], value: Double, timestampMillis: Int64, to out: inout [UInt8]) {
        let timestamp = UInt64(bitPattern: timestampMillis)
        var timestampBytes = 1
        var rest = timestamp >> 7
        while rest != 0 { timestampBytes += 1; rest >>= 7 }
        let sampleLength = 1 + 8 + 1 + timestampBytes // at most 20: its length is one byte
        out.append(1 << 3 | 2) // WriteRequest field 1
        varint(UInt64(labels.count + 2 + sampleLength), &out)
        out.append(contentsOf: labels)
        out.append(2 << 3 | 2) // TimeSeries field 2
        out.append(UInt8(sampleLength))
        out.append(0x09) // Sample field 1, fixed64
        withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        out.append(0x10) // Sample field 2, varint
        varint(timestamp, &out)
    }

    /// Encodes one exposition after another into WriteRequests as `series(fromExposition:)` and
    /// `writeRequest` would, keeping each series' encoded labels (keyed by the line's name and label
    /// text) from one render to the next: label sets rarely change, so a render parses only the
    /// values of known series. Entries not seen in a render are forgotten (bounded by the exposition).
    public struct RequestEncoder {
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

        public init() {}

        /// The serialized WriteRequest of `text` and its number of samples.
        public mutating func encode(exposition text: [UInt8], timestampMillis: Int64,
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

    static func bytesField(_ number: UInt8, _ payload: [UInt8], _ out: inout [UInt8]) {
        out.append(number << 3 | 2)
        varint(UInt64(payload.count), &out)
        out.append(contentsOf: payload)
    }

    static func varint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    /// Snappy block compression (not the framed `sNaPpY` stream, which the protocol forbids).
    public static func snappy(_ raw: [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(raw.count)
        var out = [UInt8](repeating: 0, count: length)
        let status = raw.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                                output.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        guard status == SNAPPY_OK else { return [] } // cannot happen: the buffer is the maximum size
        out.removeSubrange(length...)
        return out
    }

    /// The inverse of `snappy`, for tests and for checking a round trip (nil: not a snappy block).
    public static func unsnappy(_ compressed: [UInt8]) -> [UInt8]? {
        var length = 0
        let ok = compressed.withUnsafeBytes { input in
            snappy_uncompressed_length(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count, &length)
        }
        guard ok == SNAPPY_OK, length <= 256 << 20 else { return nil }
        var out = [UInt8](repeating: 0, count: length)
        let status = compressed.withUnsafeBytes { input in
            out.withUnsafeMutableBytes { output in
                snappy_uncompress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                                  output.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        guard status == SNAPPY_OK else { return nil }
        return Array(out.prefix(length))
    }

    /// The series of a text exposition as the exporter writes it (`/metrics`): one per sample line,
    /// with `__name__`, the line's labels minus empty values (Prometheus treats an empty label as
    /// absent; remote write forbids them), `external` labels the series lacks, all sorted by name
    /// bytes, and `timestampMillis` unless the line carries its own.
    public static func series(fromExposition text: [UInt8], timestampMillis: Int64,
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
