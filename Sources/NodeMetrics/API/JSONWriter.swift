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
            appendDecimal(UInt64(abs(v)))
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
            for key in m.keys.sorted() { w.field(key, m[key]!) }
        }
    }

    private mutating func appendDecimal(_ v: UInt64) {
        if v == 0 {
            bytes.append(UInt8(ascii: "0"))
            return
        }
        var digits: (UInt64, [UInt8]) = (v, [])
        digits.1.reserveCapacity(20)
        while digits.0 > 0 {
            digits.1.append(UInt8(ascii: "0") + UInt8(digits.0 % 10))
            digits.0 /= 10
        }
        bytes.append(contentsOf: digits.1.reversed())
    }

    private mutating func writeString(_ s: String) {
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": bytes.append(contentsOf: "\\\"".utf8)
            case "\\": bytes.append(contentsOf: "\\\\".utf8)
            case "\n": bytes.append(contentsOf: "\\n".utf8)
            case "\r": bytes.append(contentsOf: "\\r".utf8)
            case "\t": bytes.append(contentsOf: "\\t".utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                let v = scalar.value
                bytes.append(contentsOf: "\\u".utf8)
                for shift in [12, 8, 4, 0] { bytes.append(hex[Int((v >> UInt32(shift)) & 0xF)]) }
            default:
                if scalar.value < 0x20 {
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(hex[Int(scalar.value >> 4)])
                    bytes.append(hex[Int(scalar.value & 0xF)])
                } else {
                    bytes.append(contentsOf: String(scalar).utf8)
                }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
