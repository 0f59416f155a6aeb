import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

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

    /// A series' encoded labels as the protocol wants them: `__name__` and `labels` less the empty
    /// values (Prometheus treats an empty label as absent; remote write forbids them), then each
    /// `external` label the series lacks, sorted by name bytes.
    static func encodedLabels(name: String, _ labels: [(name: String, value: String)],
                              external: [(name: String, value: String)]) -> [UInt8] {
        var all: [(name: String, value: String)] = [("__name__", name)]
        all.reserveCapacity(labels.count + external.count + 1)
        for l in labels where !l.value.isEmpty { all.append(l) }
        for e in external where !all.contains(where: { $0.name == e.name }) { all.append(e) }
        all.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        return labelFields(all)
    }

    /// A label value escaped for the text format, unescaped (`\\`, `\"`, `\n`).
    static func unescape(_ escaped: [UInt8]) -> String {
        guard escaped.contains(UInt8(ascii: "\\")) else { return String(decoding: escaped, as: UTF8.self) }
        var value: [UInt8] = []
        value.reserveCapacity(escaped.count)
        var i = 0
        while i < escaped.count {
            if escaped[i] == UInt8(ascii: "\\"), i + 1 < escaped.count {
                i += 1
                value.append(escaped[i] == UInt8(ascii: "n") ? 0x0A : escaped[i])
            } else {
                value.append(escaped[i])
            }
            i += 1
        }
        return String(decoding: value, as: UTF8.self)
    }

    /// Builds one WriteRequest after another from the exporter's series (`PrometheusExporter.collect`),
    /// without text: each series' encoded labels are kept from one request to the next, found by its
    /// subject (the subject's schema and label values, looked up once per section), its family
    /// (numbered) and its extra label values (hashed as they are, no string made), so a request of
    /// known series only appends values. The request buffer is reused. Subjects and series not seen
    /// in a request are forgotten after it (bounded by the exposition). One thread at a time.
    final class RequestBuilder: SeriesReceiver {
        private struct SubjectKey: Hashable {
            var names: [String]
            var values: [[UInt8]]
        }
        private struct SeriesKey: Hashable {
            var family: Int, subject: Int
            var a: String, b: String, c: String, d: String
        }
        private struct Entry {
            var labels: [UInt8]
            /// The last request that had it.
            var request: UInt64
        }
        /// A subject's number and the encoded labels of its series without extra labels, by family
        /// number (most series: found by indexing, nothing hashed).
        private final class Subject {
            let id: Int
            var request: UInt64
            var plain: [[UInt8]?] = []
            init(id: Int, request: UInt64) {
                self.id = id
                self.request = request
            }
        }
        let external: [(name: String, value: String)]
        /// The serialized WriteRequest being built (kept between requests for its capacity).
        private(set) var request: [UInt8] = []
        private(set) var samples = 0
        private var timestampMillis: Int64 = 0
        private var requests: UInt64 = 0
        private var scratch: [UInt8] = []

        private var subjectIDs: [SubjectKey: Subject] = [:]
        private var nextSubject = 0
        private var subjectsSeen = 0
        private var families: [String: Int] = [:]
        private var cache: [SeriesKey: Entry] = [:]
        private var seen = 0

        /// The current section and family.
        private var schema = LabelSchema(names: [])
        private var values: [[[UInt8]]] = []
        private var current: [Subject] = []
        private var familyName = ""
        private var familyID = 0
        private var extraNames: [String] = []

        init(external: [(name: String, value: String)] = []) { self.external = external }

        /// Starts a request whose series without a timestamp of their own get `timestampMillis`.
        func begin(timestampMillis: Int64) {
            requests &+= 1
            self.timestampMillis = timestampMillis
            request.removeAll(keepingCapacity: true)
            samples = 0
            seen = 0
            subjectsSeen = 0
        }

        /// Ends the request: forgets what it did not have. `request` holds it until the next `begin`.
        func end() {
            if cache.count > seen { cache = cache.filter { $0.value.request == requests } }
            if subjectIDs.count > subjectsSeen { subjectIDs = subjectIDs.filter { $0.value.request == requests } }
        }

        /// The request, snappy-compressed (into a buffer kept between calls).
        func compressed() -> [UInt8] { RemoteWriteEncoding.snappy(request, scratch: &scratch) }

        func subjects(_ values: [[[UInt8]]], schema: LabelSchema) {
            self.values = values
            self.schema = schema
            current.removeAll(keepingCapacity: true)
            for v in values {
                let key = SubjectKey(names: schema.names, values: v)
                if let known = subjectIDs[key] {
                    if known.request != requests {
                        known.request = requests
                        subjectsSeen += 1
                    }
                    current.append(known)
                } else {
                    nextSubject += 1
                    let new = Subject(id: nextSubject, request: requests)
                    subjectIDs[key] = new
                    subjectsSeen += 1
                    current.append(new)
                }
            }
        }

        func family(_ name: String, extra: [String]) {
            familyName = name
            extraNames = extra
            if let id = families[name] {
                familyID = id
            } else {
                familyID = families.count
                families[name] = familyID
            }
        }

        func series(subject: Int, _ a: String, _ b: String, _ c: String, _ d: String, value: Double, timestampMillis: Int64?) {
            let owner = current[subject]
            if extraNames.isEmpty, familyID < owner.plain.count, let labels = owner.plain[familyID] {
                append(labels, value, timestampMillis)
                return
            }
            let key = SeriesKey(family: familyID, subject: owner.id, a: a, b: b, c: c, d: d)
            let labels: [UInt8]
            if !extraNames.isEmpty, let i = cache.index(forKey: key) {
                if cache.values[i].request != requests {
                    cache.values[i].request = requests
                    seen += 1
                }
                labels = cache.values[i].labels
            } else {
                // In the text's order: schema and extra labels interleaved by name.
                var pairs: [(name: String, value: String)] = []
                let extra = [a, b, c, d]
                for p in schema.plan(extra: extraNames) {
                    if p >= 0 {
                        pairs.append((schema.names[p], RemoteWriteEncoding.unescape(values[subject][p])))
                    } else {
                        pairs.append((extraNames[-p - 1], extra[-p - 1]))
                    }
                }
                labels = RemoteWriteEncoding.encodedLabels(name: familyName, pairs, external: external)
                if extraNames.isEmpty {
                    if owner.plain.count <= familyID { owner.plain.append(contentsOf: repeatElement(nil, count: familyID + 1 - owner.plain.count)) }
                    owner.plain[familyID] = labels
                } else {
                    cache[key] = Entry(labels: labels, request: requests)
                    seen += 1
                }
            }
            append(labels, value, timestampMillis)
        }

        func series(_ name: String, labels: [(String, String)], value: Double, timestampMillis: Int64?) {
            append(RemoteWriteEncoding.encodedLabels(name: name, labels.map { (name: $0.0, value: $0.1) }, external: external),
                   value, timestampMillis)
        }

        @inline(__always)
        private func append(_ labels: [UInt8], _ value: Double, _ timestampMillis: Int64?) {
            // Any NaN is sent as the one NaN the text format's "NaN" reads back as.
            RemoteWriteEncoding.appendTimeSeries(labels: labels, value: value.isNaN ? .nan : value,
                                                 timestampMillis: timestampMillis ?? self.timestampMillis, to: &request)
            samples += 1
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
        var scratch: [UInt8] = []
        return snappy(raw, scratch: &scratch)
    }

    /// `snappy(raw)` compressing into `scratch`, kept from one call to the next (grown, never
    /// zero-filled again), and returning a copy of just the compressed bytes.
    public static func snappy(_ raw: [UInt8], scratch: inout [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(raw.count)
        if scratch.count < length { scratch = [UInt8](repeating: 0, count: length) }
        let status = raw.withUnsafeBytes { input in
            scratch.withUnsafeMutableBytes { output in
                snappy_compress(input.baseAddress?.assumingMemoryBound(to: CChar.self), input.count,
                                output.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        guard status == SNAPPY_OK else { return [] } // cannot happen: the buffer is the maximum size
        return Array(scratch[..<length])
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

}
