/// Writes JSON the way Go's encoding/json does — fields in the order written, maps with sorted
/// keys, HTML-safe string escapes, integral floats without a fraction — so node-metrics' output
/// matches cAdvisor's byte for byte where the values agree. Foundation's JSONEncoder cannot keep
/// field order, which is why this small writer exists.
///
/// Fast paths for the per-sample encoders (the storage drivers write ~200 documents a second):
/// keys given as literals (`field(literal:_:)`, `key(literal:)`) are copied as they are, without
/// an escape scan; keys computed once (`PreEscapedKeys`) likewise; `reset()` and `raw(_:)` let a
/// driver write a whole batch into one buffer.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// The document as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Empties the writer, keeping its memory (one buffer reused for every document of a batch).
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma = false
    }

    /// `reset()`, but a buffer that grew past `limit` bytes (a batch after an outage) is let go
    /// instead of kept.
    public mutating func reset(keepingAtMost limit: Int) {
        if bytes.capacity > limit { bytes = [] }
        reset()
    }

    /// Bytes copied as they are, between documents (NDJSON's newline, a protocol's framing); what
    /// follows starts without a comma.
    public mutating func raw(_ b: UnsafeBufferPointer<UInt8>) {
        bytes.append(contentsOf: b)
        needsComma = false
    }

    public mutating func raw(_ b: [UInt8]) {
        b.withUnsafeBufferPointer { raw($0) }
    }

    public mutating func raw(_ s: StaticString) {
        raw(UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// `v` in decimal, as raw bytes (a length in a protocol's framing).
    public mutating func rawDecimal(_ v: UInt64) {
        bytes.appendDecimal(v)
        needsComma = false
    }

    @inline(__always)
    private mutating func separator() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    public mutating func beginObject() {
        separator()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separator()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes an object key; the next call writes its value.
    public mutating func key(_ k: String) {
        separator()
        writeString(k)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a key given as a literal, copied without an escape scan: it must be plain ASCII
    /// without `"` `\\` `<` `>` `&` or control characters (every key of cAdvisor's JSON is).
    @inline(__always)
    public mutating func key(literal k: StaticString) {
        let utf8 = UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount)
        assert(Self.plain(utf8), "\(k) needs escaping")
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: utf8)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes the key at `index` of `keys` (escaped when they were made).
    @inline(__always)
    public mutating func key(_ keys: PreEscapedKeys, _ index: Int) {
        separator()
        keys.withKey(index) { bytes.append(contentsOf: $0) }
        needsComma = false
    }

    /// Writes a key that is a number ("0", "12": Go's map[uint8] keys).
    public mutating func key(decimal k: UInt64) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        bytes.appendDecimal(k)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func value(_ v: UInt64) {
        separator()
        appendDecimal(v)
        needsComma = true
    }

    public mutating func value(_ v: Int64) {
        separator()
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(v.magnitude)
        needsComma = true
    }

    public mutating func value(_ v: Bool) {
        separator()
        bytes.append(contentsOf: (v ? "true" : "false").utf8)
        needsComma = true
    }

    /// A float as Go prints it: integral values without ".0", others in shortest form.
    public mutating func value(_ v: Double) {
        separator()
        if v.isFinite, v == v.rounded(), abs(v) < 1e21 {
            if v < 0 { bytes.append(UInt8(ascii: "-")) }
            // Integral and below 1e21 < 2^70: exact in UInt128 (UInt64 ends at 2^64 ≈ 1.8e19).
            let magnitude = UInt128(abs(v))
            if let small = UInt64(exactly: magnitude) {
                appendDecimal(small)
            } else {
                bytes.append(contentsOf: String(magnitude).utf8)
            }
        } else if v.isFinite {
            var text = "\(v)"
            // Go writes 1e-07 as 1e-7.
            if let e = text.firstIndex(of: "e") {
                let mantissa = text[..<e]
                var exponent = String(text[text.index(after: e)...])
                let sign = exponent.first == "-" ? "-" : ""
                exponent = String(exponent.drop { $0 == "-" || $0 == "+" || $0 == "0" })
                text = mantissa + "e" + sign + (exponent.isEmpty ? "0" : exponent)
            }
            bytes.append(contentsOf: text.utf8)
        } else {
            bytes.append(UInt8(ascii: "0")) // Go refuses NaN/Inf; never produce invalid JSON
        }
        needsComma = true
    }

    public mutating func value(_ v: String) {
        separator()
        writeString(v)
        needsComma = true
    }

    /// A value already encoded as JSON (a string escaped once for a whole batch: `escaped(_:)`).
    public mutating func value(json: [UInt8]) {
        separator()
        bytes.append(contentsOf: json)
        needsComma = true
    }

    /// A time as Go's time.RFC3339Nano writes it (GoTime), as a string value.
    public mutating func value(rfc3339Nano nanos: Int64) {
        separator()
        bytes.append(UInt8(ascii: "\""))
        GoTime.appendRFC3339Nano(nanos, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
        needsComma = true
    }

    @inline(__always) public mutating func field(literal k: StaticString, _ v: UInt64) { key(literal: k); value(v) }
    @inline(__always) public mutating func field(literal k: StaticString, _ v: Int64) { key(literal: k); value(v) }
    @inline(__always) public mutating func field(literal k: StaticString, _ v: Double) { key(literal: k); value(v) }
    @inline(__always) public mutating func field(literal k: StaticString, _ v: String) { key(literal: k); value(v) }
    @inline(__always) public mutating func field(literal k: StaticString, _ v: Bool) { key(literal: k); value(v) }
    @inline(__always) public mutating func field(literal k: StaticString, rfc3339Nano nanos: Int64) {
        key(literal: k)
        value(rfc3339Nano: nanos)
    }

    /// An object built by `body` under the literal key `k`.
    @inline(__always)
    public mutating func object(literal k: StaticString, _ body: (inout JSONWriter) -> Void) {
        key(literal: k)
        beginObject()
        body(&self)
        endObject()
    }

    public mutating func field(_ k: String, _ v: UInt64) { key(k); value(v) }
    public mutating func field(_ k: String, _ v: Int64) { key(k); value(v) }
    public mutating func field(_ k: String, _ v: Double) { key(k); value(v) }
    public mutating func field(_ k: String, _ v: String) { key(k); value(v) }
    public mutating func field(_ k: String, _ v: Bool) { key(k); value(v) }

    /// An object built by `body` under key `k`.
    public mutating func object(_ k: String, _ body: (inout JSONWriter) -> Void) {
        key(k)
        beginObject()
        body(&self)
        endObject()
    }

    /// An array under key `k` with one element written by `body` per item.
    public mutating func array<S: Sequence>(_ k: String, _ items: S, _ body: (inout JSONWriter, S.Element) -> Void) {
        key(k)
        beginArray()
        for item in items { body(&self, item) }
        endArray()
    }

    /// A map with string keys, written with sorted keys as Go does.
    public mutating func map(_ k: String, _ m: [String: UInt64]) {
        object(k) { w in
            for (key, value) in m.sorted(by: { $0.key < $1.key }) { w.field(key, value) }
        }
    }

    private mutating func appendDecimal(_ v: UInt64) { bytes.appendDecimal(v) }

    /// A JSON string with Go's escapes: `"` `\\` `\n` `\r` `\t` by name, other control characters,
    /// `<` `>` `&` and U+2028/U+2029 as `\u00XX`/`\u20XX`. Runs of bytes that need none are copied whole.
    private mutating func writeString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        var s = s
        s.withUTF8 { writeEscaped($0) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>) {
        let count = utf8.count
        var runStart = 0, i = 0
        while i < count {
            let b = utf8[i]
            guard Self.mayNeedEscape(b) else {
                i += 1
                continue
            }
            if b == 0xE2 && !(i + 2 < count && utf8[i + 1] == 0x80 && (utf8[i + 2] & 0xFE) == 0xA8) {
                i += 1 // another character starting with E2
                continue
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
            bytes.append(0x5C)
            switch b {
            case 0x22: bytes.append(0x22)
            case 0x5C: bytes.append(0x5C)
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0xE2: // U+2028 or U+2029
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "2"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "2"))
                bytes.append(utf8[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                i += 2
            default:
                bytes.append(UInt8(ascii: "u"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(UInt8(ascii: "0"))
                bytes.append(Self.hexDigit(b >> 4))
                bytes.append(Self.hexDigit(b & 0xF))
            }
            i += 1
            runStart = i
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<count]))
    }

    /// Bytes that start an escape: control characters, `"`, `\\`, `<`, `>`, `&`, and E2 (U+2028/U+2029
    /// start with it). Below 0x40 a bit mask (0x00–0x1F, 0x22 `"`, 0x26 `&`, 0x3C `<`, 0x3E `>`).
    @inline(__always)
    static func mayNeedEscape(_ b: UInt8) -> Bool {
        if b < 0x40 { return (0x5000_0044_FFFF_FFFF as UInt64) >> UInt64(b) & 1 != 0 }
        return b == 0x5C || b == 0xE2
    }

    /// True when no byte of `utf8` needs an escape.
    static func plain(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool { !utf8.contains(where: mayNeedEscape) }

    /// `s` as a JSON string, quoted and escaped (for `value(json:)`).
    public static func escaped(_ s: String) -> [UInt8] {
        var w = JSONWriter(capacity: s.utf8.count + 2)
        w.writeString(s)
        return w.bytes
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }
}

/// Keys known once (a table of field names): each stored escaped, quoted and with its colon, written
/// by `JSONWriter.key(_:_:)` with one copy.
public struct PreEscapedKeys: Sendable {
    private let storage: [UInt8]
    private let ends: [Int]

    public init(_ keys: [String]) {
        var storage: [UInt8] = [], ends: [Int] = []
        for k in keys {
            storage += JSONWriter.escaped(k)
            storage.append(UInt8(ascii: ":"))
            ends.append(storage.count)
        }
        self.storage = storage
        self.ends = ends
    }

    public var count: Int { ends.count }

    @inline(__always)
    func withKey(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let start = i == 0 ? 0 : ends[i - 1]
        storage.withUnsafeBufferPointer { body(UnsafeBufferPointer(rebasing: $0[start..<ends[i]])) }
    }
}

extension Array where Element == UInt8 {
    /// Appends a string's UTF-8 bytes.
    @inline(__always)
    mutating func append(utf8 s: String) {
        var s = s
        s.withUTF8 { append(contentsOf: $0) }
    }

    /// Appends `v` in decimal, without allocating.
    mutating func appendDecimal(_ v: UInt64) {
        if v < 10 {
            append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v))
            return
        }
        var m = v
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var i = 20
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m > 0
            append(contentsOf: UnsafeBufferPointer(rebasing: buf[i..<20]))
        }
    }
}
