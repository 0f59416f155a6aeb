/// Prometheus metric types as the text format names them.
public enum PrometheusMetricType: String, Sendable {
    case counter, gauge
}

/// Writes the Prometheus text exposition format (version 0.0.4) into one byte buffer, formatting
/// numbers as Go's client_golang does (`strconv.FormatFloat(v, 'g', -1, 64)`: `1.2345e+06`).
public struct PrometheusTextWriter: Sendable {
    public internal(set) var bytes: [UInt8] = []

    public init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    @inline(__always)
    mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func append(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    @inline(__always)
    mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }

    /// `# HELP` and `# TYPE` lines of a family.
    public mutating func header(_ name: String, help: String, type: PrometheusMetricType) {
        append("# HELP ")
        append(name)
        bytes.append(0x20)
        for b in help.utf8 {
            switch b {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\n"): append("\\n")
            default: bytes.append(b)
            }
        }
        append("\n# TYPE ")
        append(name)
        bytes.append(0x20)
        append(type.rawValue)
        bytes.append(0x0A)
    }

    /// A label value escaped for the text format (backslash, double quote, newline).
    public static func escapeLabelValue(_ value: String) -> [UInt8] {
        var w = PrometheusTextWriter(capacity: value.utf8.count)
        w.appendEscaped(value)
        return w.bytes
    }

    /// Appends a label value escaped in place.
    mutating func appendEscaped(_ value: String) {
        for b in value.utf8 {
            switch b {
            case UInt8(ascii: "\\"): append("\\\\")
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\n"): append("\\n")
            default: bytes.append(b)
            }
        }
    }

    /// A sample line without labels.
    public mutating func sample(_ name: String, value: Double, timestampMillis: Int64? = nil) {
        append(name)
        bytes.append(0x20)
        endSample(value: value, timestampMillis: timestampMillis)
    }

    /// A sample line with labels given as (name, unescaped value) pairs, in the given order.
    public mutating func sample(_ name: String, labels: [(String, String)], value: Double, timestampMillis: Int64? = nil) {
        append(name)
        if !labels.isEmpty {
            bytes.append(UInt8(ascii: "{"))
            for (i, (k, v)) in labels.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                label(k, Self.escapeLabelValue(v))
            }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(0x20)
        endSample(value: value, timestampMillis: timestampMillis)
    }

    /// `name="value"` with an already escaped value.
    @inline(__always)
    mutating func label(_ name: String, _ escapedValue: [UInt8]) {
        append(name)
        append("=\"")
        bytes.append(contentsOf: escapedValue)
        bytes.append(UInt8(ascii: "\""))
    }

    /// The value, the optional timestamp and the newline.
    @inline(__always)
    mutating func endSample(value: Double, timestampMillis: Int64?) {
        appendFloat(value)
        if let timestampMillis {
            bytes.append(0x20)
            appendInteger(timestampMillis)
        }
        bytes.append(0x0A)
    }

    mutating func appendInteger(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        bytes.appendDecimal(v.magnitude)
    }

    /// Appends `v` exactly as Go's `strconv.AppendFloat(v, 'g', -1, 64)`: the shortest digits that
    /// read back as `v`, in %e form when the decimal exponent is < -4 or ≥ 6 (shortest 'g' uses 6).
    public mutating func appendFloat(_ v: Double) {
        if v.isNaN { append("NaN"); return }
        if v.isInfinite { append(v > 0 ? "+Inf" : "-Inf"); return }
        if v == 0 { append(v.sign == .minus ? "-0" : "0"); return }
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        let a = v.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { digits in
            var nd = 0
            var dp = 0
            if a < 1e15, a == a.rounded(.towardZero) {
                // Integers below 2^53 are exact: their digits are the shortest representation.
                var m = UInt64(a)
                var count = 0
                var div: UInt64 = 1
                while div <= m / 10 { div *= 10 }
                while div > 0 {
                    digits[count] = UInt8(ascii: "0") + UInt8(m / div)
                    m %= div
                    div /= 10
                    count += 1
                }
                dp = count
                nd = count
                while nd > 1 && digits[nd - 1] == UInt8(ascii: "0") { nd -= 1 }
            } else {
                // Swift's description is also the shortest round-trip representation; take its
                // digits and decimal exponent.
                var seenPoint = false
                var leading = true
                var pointPos = 0
                var sawExp = false
                var expSign = 1
                var expValue = 0
                for c in a.description.utf8 {
                    if sawExp {
                        if c == UInt8(ascii: "-") { expSign = -1 } else if c == UInt8(ascii: "+") { continue } else {
                            expValue = expValue * 10 + Int(c - UInt8(ascii: "0"))
                        }
                        continue
                    }
                    switch c {
                    case UInt8(ascii: "."):
                        seenPoint = true
                    case UInt8(ascii: "e"), UInt8(ascii: "E"):
                        sawExp = true
                    default:
                        if leading && c == UInt8(ascii: "0") {
                            if seenPoint { pointPos -= 1 }
                            continue
                        }
                        leading = false
                        digits[nd] = c
                        nd += 1
                        if !seenPoint { pointPos += 1 }
                    }
                }
                dp = pointPos + expSign * expValue
                while nd > 1 && digits[nd - 1] == UInt8(ascii: "0") { nd -= 1 }
            }
            let exp = dp - 1
            if exp < -4 || exp >= 6 {
                bytes.append(digits[0])
                if nd > 1 {
                    bytes.append(UInt8(ascii: "."))
                    for i in 1..<nd { bytes.append(digits[i]) }
                }
                bytes.append(UInt8(ascii: "e"))
                bytes.append(exp < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                let e = abs(exp)
                if e < 10 { bytes.append(UInt8(ascii: "0")) }
                appendInteger(Int64(e))
            } else {
                if dp > 0 {
                    for i in 0..<dp { bytes.append(i < nd ? digits[i] : UInt8(ascii: "0")) }
                } else {
                    bytes.append(UInt8(ascii: "0"))
                }
                if nd > dp {
                    bytes.append(UInt8(ascii: "."))
                    var i = dp
                    while i < nd {
                        bytes.append(i < 0 ? UInt8(ascii: "0") : digits[i])
                        i += 1
                    }
                }
            }
        }
    }
}
