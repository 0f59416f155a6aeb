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
        let sampleLength = 1 + 8 + 1 + varintLength(timestamp) // at most 20: its length is one byte
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
    /// without text. Each series' constant bytes — the `timeseries` field's tag and length, its
    /// encoded labels and the Sample's tag, length and value tag ("head") — are kept from one request
    /// to the next in one byte arena, found by its subject (the subject's schema and label values,
    /// looked up once per section), its family (numbered) and, for series with extra labels, their
    /// values compared in the order they came last time (nothing hashed, no string made): a request of
    /// known series copies each head and writes the value and timestamp. The request buffer is reused.
    /// Subjects and series not seen in a request are forgotten after it and the arena compacted when
    /// it is mostly garbage (bounded by the exposition). One thread at a time: its state is read and
    /// written per series, so the runtime's exclusivity checks are off for it (`@exclusivity(unchecked)`;
    /// no method of it hands a property inout to another that touches the same property).
    final class RequestBuilder: SeriesReceiver {
        private struct SubjectKey: Hashable {
            var names: [String]
            var values: [[UInt8]]
        }
        /// A cached head in `heads`: bytes `start..<start+count`; the encoded labels are
        /// `start+labels..<start+count-3` (count 0: none).
        private struct Slot {
            var start = 0, count = 0, labels = 0
        }
        /// A series with extra labels: their values, its head, the last request that had it.
        private struct ExtraSeries {
            var a: String, b: String, c: String, d: String
            var slot: Slot
            var request: UInt64
        }
        /// A subject's series heads by family number: those without extra labels (most series: found
        /// by indexing), and those with, in the order last seen.
        private final class Subject {
            @exclusivity(unchecked) var request: UInt64
            @exclusivity(unchecked) var plain: [Slot] = []
            @exclusivity(unchecked) var extra: [[ExtraSeries]] = []
            init(request: UInt64) { self.request = request }
        }
        let external: [(name: String, value: String)]
        /// The serialized WriteRequest being built: `buffer[..<length]` (the buffer is kept between
        /// requests for its capacity).
        @exclusivity(unchecked) private var buffer: [UInt8] = []
        @exclusivity(unchecked) private var length = 0
        /// The WriteRequest built last (a copy; `compressed()` reads the buffer itself).
        var request: [UInt8] { Array(buffer[..<length]) }
        @exclusivity(unchecked) private(set) var samples = 0
        @exclusivity(unchecked) private var timestampMillis: Int64 = 0
        @exclusivity(unchecked) private var requests: UInt64 = 0
        @exclusivity(unchecked) private var scratch: [UInt8] = []

        /// Every cached head; `live` bytes of it are in use, the rest is garbage until compacted.
        @exclusivity(unchecked) private var heads: [UInt8] = []
        @exclusivity(unchecked) private var live = 0
        /// The timestamp's varint length the heads' Sample lengths were made for (a request whose
        /// timestamp needs another starts the cache over: once in ~70 years).
        @exclusivity(unchecked) private var headTimestampLength = 0
        @exclusivity(unchecked) private var subjectIDs: [SubjectKey: Subject] = [:]
        @exclusivity(unchecked) private var subjectsSeen = 0
        @exclusivity(unchecked) private var families: [String: Int] = [:]
        @exclusivity(unchecked) private var extras = 0, extrasSeen = 0

        /// The current section and family, and where in the current subject's list of the family's
        /// series with extra labels the next one is expected.
        @exclusivity(unchecked) private var schema = LabelSchema(names: [])
        @exclusivity(unchecked) private var values: [[[UInt8]]] = []
        @exclusivity(unchecked) private var current: [Unmanaged<Subject>] = []
        @exclusivity(unchecked) private var familyName = ""
        @exclusivity(unchecked) private var familyID = 0
        @exclusivity(unchecked) private var extraNames: [String] = []
        @exclusivity(unchecked) private var cursorSubject = -1, cursor = 0

        init(external: [(name: String, value: String)] = []) { self.external = external }

        /// Starts a request whose series without a timestamp of their own get `timestampMillis`.
        func begin(timestampMillis: Int64) {
            requests &+= 1
            self.timestampMillis = timestampMillis
            length = 0
            samples = 0
            subjectsSeen = 0
            extrasSeen = 0
            let stampLength = RemoteWriteEncoding.varintLength(UInt64(bitPattern: timestampMillis))
            if stampLength != headTimestampLength {
                subjectIDs = [:]
                heads = []
                live = 0
                extras = 0
                headTimestampLength = stampLength
            }
        }

        /// Ends the request: forgets what it did not have. `request` holds it until the next `begin`.
        func end() {
            current.removeAll(keepingCapacity: true)
            cursorSubject = -1
            if extras > extrasSeen {
                for subject in subjectIDs.values where subject.request == requests {
                    for f in subject.extra.indices {
                        subject.extra[f].removeAll { e in
                            guard e.request != requests else { return false }
                            live -= e.slot.count
                            extras -= 1
                            return true
                        }
                    }
                }
            }
            if subjectIDs.count > subjectsSeen {
                subjectIDs = subjectIDs.filter { _, subject in
                    guard subject.request != requests else { return true }
                    for s in subject.plain { live -= s.count }
                    for list in subject.extra {
                        for e in list { live -= e.slot.count }
                        extras -= list.count
                    }
                    return false
                }
            }
            if heads.count > 2 * live + (1 << 20) { compact() }
        }

        /// Copies the live heads into a new arena.
        private func compact() {
            var fresh: [UInt8] = []
            fresh.reserveCapacity(live + live / 2)
            func move(_ s: inout Slot) {
                guard s.count > 0 else { return }
                let start = fresh.count
                fresh.append(contentsOf: heads[s.start..<(s.start + s.count)])
                s.start = start
            }
            for subject in subjectIDs.values {
                for f in subject.plain.indices { move(&subject.plain[f]) }
                for f in subject.extra.indices {
                    for i in subject.extra[f].indices { move(&subject.extra[f][i].slot) }
                }
            }
            heads = fresh
            live = fresh.count
        }

        /// The request, snappy-compressed (into a buffer kept between calls).
        func compressed() -> [UInt8] {
            buffer.withUnsafeBufferPointer { RemoteWriteEncoding.snappy(UnsafeBufferPointer(rebasing: $0[..<length]), scratch: &scratch) }
        }

        override func subjects(_ values: [[[UInt8]]], schema: LabelSchema) {
            self.values = values
            self.schema = schema
            current.removeAll(keepingCapacity: true)
            cursorSubject = -1
            for v in values {
                let key = SubjectKey(names: schema.names, values: v)
                if let known = subjectIDs[key] {
                    if known.request != requests {
                        known.request = requests
                        subjectsSeen += 1
                    }
                    current.append(Unmanaged.passUnretained(known))
                } else {
                    let new = Subject(request: requests)
                    subjectIDs[key] = new
                    subjectsSeen += 1
                    current.append(Unmanaged.passUnretained(new))
                }
            }
        }

        override func family(_ name: String, extra: [String]) {
            familyName = name
            extraNames = extra
            cursorSubject = -1
            if let id = families[name] {
                familyID = id
            } else {
                familyID = families.count
                families[name] = familyID
            }
        }

        override func series(subject: Int, _ a: String, _ b: String, _ c: String, _ d: String, value: Double, timestampMillis: Int64?) {
            // The subjects are held by `subjectIDs` until `end`, which empties `current`.
            let slot = current[subject]._withUnsafeGuaranteedRef { owner -> Slot in
                let f = familyID
                if extraNames.isEmpty {
                    if f < owner.plain.count, owner.plain[f].count > 0 { return owner.plain[f] }
                    let made = head(subject: subject, a, b, c, d)
                    if owner.plain.count <= f { owner.plain.append(contentsOf: repeatElement(Slot(), count: f + 1 - owner.plain.count)) }
                    owner.plain[f] = made
                    return made
                }
                if owner.extra.count <= f { owner.extra.append(contentsOf: repeatElement([ExtraSeries](), count: f + 1 - owner.extra.count)) }
                if cursorSubject != subject {
                    cursorSubject = subject
                    cursor = 0
                }
                var found = -1
                let count = owner.extra[f].count
                if cursor < count, Self.matches(owner.extra[f][cursor], a, b, c, d) {
                    found = cursor
                } else {
                    for i in 0..<count where Self.matches(owner.extra[f][i], a, b, c, d) {
                        found = i
                        break
                    }
                }
                if found >= 0 {
                    cursor = found + 1
                    if owner.extra[f][found].request != requests {
                        owner.extra[f][found].request = requests
                        extrasSeen += 1
                    }
                    return owner.extra[f][found].slot
                }
                let made = head(subject: subject, a, b, c, d)
                owner.extra[f].append(ExtraSeries(a: a, b: b, c: c, d: d, slot: made, request: requests))
                cursor = count + 1
                extras += 1
                extrasSeen += 1
                return made
            }
            append(slot, value, timestampMillis ?? self.timestampMillis)
        }

        @inline(__always)
        private static func matches(_ e: ExtraSeries, _ a: String, _ b: String, _ c: String, _ d: String) -> Bool {
            e.a == a && e.b == b && e.c == c && e.d == d
        }

        /// Encodes a new series' labels (in the text's order: schema and extra labels interleaved by
        /// name, then as `encodedLabels` orders them) and keeps its head in the arena.
        private func head(subject: Int, _ a: String, _ b: String, _ c: String, _ d: String) -> Slot {
            var pairs: [(name: String, value: String)] = []
            let extra = [a, b, c, d]
            for p in schema.plan(extra: extraNames) {
                if p >= 0 {
                    pairs.append((schema.names[p], RemoteWriteEncoding.unescape(values[subject][p])))
                } else {
                    pairs.append((extraNames[-p - 1], extra[-p - 1]))
                }
            }
            return keep(RemoteWriteEncoding.encodedLabels(name: familyName, pairs, external: external))
        }

        /// `labels`' head for this arena's timestamp length, appended to the arena.
        private func keep(_ labels: [UInt8]) -> Slot {
            let sampleLength = 1 + 8 + 1 + headTimestampLength
            let start = heads.count
            heads.append(1 << 3 | 2) // WriteRequest field 1
            RemoteWriteEncoding.varint(UInt64(labels.count + 2 + sampleLength), &heads)
            let labelsAt = heads.count - start
            heads.append(contentsOf: labels)
            heads.append(2 << 3 | 2) // TimeSeries field 2
            heads.append(UInt8(sampleLength))
            heads.append(0x09) // Sample field 1, fixed64
            let slot = Slot(start: start, count: heads.count - start, labels: labelsAt)
            live += slot.count
            return slot
        }

        override func series(_ name: String, labels: [(String, String)], value: Double, timestampMillis: Int64?) {
            appendWhole(labels: RemoteWriteEncoding.encodedLabels(name: name, labels.map { (name: $0.0, value: $0.1) }, external: external),
                        value, timestampMillis ?? self.timestampMillis)
        }

        /// One `timeseries` field encoded whole (no cached head): a series without a subject, or one
        /// whose explicit timestamp has another varint length than the heads were made for.
        private func appendWhole(labels: [UInt8], _ value: Double, _ timestamp: Int64) {
            var one: [UInt8] = []
            // Any NaN is sent as the one NaN the text format's "NaN" reads back as.
            RemoteWriteEncoding.appendTimeSeries(labels: labels, value: value.isNaN ? .nan : value, timestampMillis: timestamp, to: &one)
            reserve(one.count)
            buffer.replaceSubrange(length..<(length + one.count), with: one)
            length += one.count
            samples += 1
        }

        /// Room for `n` more bytes after `length`.
        @inline(__always)
        private func reserve(_ n: Int) {
            if length + n > buffer.count {
                buffer.append(contentsOf: repeatElement(0, count: max(length + n - buffer.count, buffer.count, 1 << 16)))
            }
        }

        /// One `timeseries` field: the series' head, its value and its timestamp.
        @inline(__always)
        private func append(_ slot: Slot, _ value: Double, _ timestamp: Int64) {
            let stamp = UInt64(bitPattern: timestamp)
            guard RemoteWriteEncoding.varintLength(stamp) == headTimestampLength else {
                // An explicit timestamp of another length: the Sample (and the field) length differ.
                appendWhole(labels: Array(heads[(slot.start + slot.labels)..<(slot.start + slot.count - 3)]), value, timestamp)
                return
            }
            reserve(slot.count + 8 + 1 + 10)
            // Any NaN is sent as the one NaN the text format's "NaN" reads back as.
            let bits = (value.isNaN ? Double.nan : value).bitPattern
            length = buffer.withUnsafeMutableBufferPointer { out -> Int in
                var p = out.baseAddress!.advanced(by: length)
                heads.withUnsafeBufferPointer { h in p.update(from: h.baseAddress!.advanced(by: slot.start), count: slot.count) }
                p += slot.count
                UnsafeMutableRawPointer(p).storeBytes(of: bits.littleEndian, as: UInt64.self)
                p += 8
                p.pointee = 0x10 // Sample field 2, varint
                p += 1
                var v = stamp
                while v >= 0x80 {
                    p.pointee = UInt8(truncatingIfNeeded: v) | 0x80
                    p += 1
                    v >>= 7
                }
                p.pointee = UInt8(v)
                return out.baseAddress!.distance(to: p) + 1
            }
            samples += 1
        }
    }

    /// The bytes `varint` writes for `value`.
    @inline(__always)
    static func varintLength(_ value: UInt64) -> Int {
        var n = 1
        var rest = value >> 7
        while rest != 0 { n += 1; rest >>= 7 }
        return n
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
        raw.withUnsafeBufferPointer { snappy($0, scratch: &scratch) }
    }

    /// `snappy(raw:scratch:)` of bytes in place.
    static func snappy(_ raw: UnsafeBufferPointer<UInt8>, scratch: inout [UInt8]) -> [UInt8] {
        var length = snappy_max_compressed_length(raw.count)
        if scratch.count < length { scratch = [UInt8](repeating: 0, count: length) }
        let status = scratch.withUnsafeMutableBytes { output in
            snappy_compress(UnsafeRawPointer(raw.baseAddress)?.assumingMemoryBound(to: CChar.self), raw.count,
                            output.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
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
