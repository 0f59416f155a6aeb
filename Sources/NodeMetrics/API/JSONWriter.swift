/// Writes JSON the way Go's encoding/json does — fields in the order written, maps with sorted
/// keys, HTML-safe string escapes, integral floats without a fraction — so node-metrics' output
/// matches cAdvisor's byte for byte where the values agree. Foundation's JSONEncoder cannot keep
/// field order, which is why this small writer exists.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// The document as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }

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
        s.withUTF8 { utf8 in
            var runStart = 0, i = 0
            while i < utf8.count {
                let b = utf8[i]
                guard Self.mayNeedEscape[Int(b)] else {
                    i += 1
                    continue
                }
                if b == 0xE2 && !(i + 2 < utf8.count && utf8[i + 1] == 0x80 && (utf8[i + 2] & 0xFE) == 0xA8) {
                    i += 1 // another character starting with E2
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                switch b {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0xE2: // U+2028 or U+2029
                    bytes.append(contentsOf: "\\u202".utf8)
                    bytes.append(utf8[i + 2] == 0xA8 ? UInt8(ascii: "8") : UInt8(ascii: "9"))
                    i += 2
                default:
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(Self.hexDigit(b >> 4))
                    bytes.append(Self.hexDigit(b & 0xF))
                }
                i += 1
                runStart = i
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Bytes that start an escape: control characters, `"`, `\\`, `<`, `>`, `&`, and E2 (U+2028/U+2029 start with it).
    private static let mayNeedEscape: [Bool] = (0..<256).map { b in
        b < 0x20 || b == 0x22 || b == 0x5C || b == 0x3C || b == 0x3E || b == 0x26 || b == 0xE2
    }

    private static func hexDigit(_ v: UInt8) -> UInt8 { v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "a") + v - 10 }
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
        var m = v
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buf in
            var i = 20
            repeat {
                i -= 1
                buf[i] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m > 0
            append(contentsOf: buf[i..<20])
        }
    }
}
