import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Go's time.RFC3339Nano rendering of a UTC instant: trailing zeros of the fraction dropped.
public enum GoTime {
    public static func rfc3339Nano(nanosSinceEpoch: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(30)
        appendRFC3339Nano(nanosSinceEpoch, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends what `rfc3339Nano` returns ("2026-11-18T11:06:40.12Z"), without allocating.
    public static func appendRFC3339Nano(_ nanosSinceEpoch: Int64, to out: inout [UInt8]) {
        var seconds = time_t(nanosSinceEpoch / 1_000_000_000)
        var nanos = nanosSinceEpoch % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // Int64 nanoseconds reach the years 1677–2262: four digits, as Go writes them.
        func digits(_ v: Int32, _ width: Int, then separator: UInt8?) {
            var divisor: Int32 = 1
            for _ in 1..<width { divisor &*= 10 }
            var v = v
            while v / divisor >= 10 { divisor &*= 10 } // wider than `width`: every digit
            while divisor > 0 {
                out.append(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v / divisor))
                v %= divisor
                divisor /= 10
            }
            if let separator { out.append(separator) }
        }
        digits(parts.tm_year &+ 1900, 4, then: UInt8(ascii: "-"))
        digits(parts.tm_mon &+ 1, 2, then: UInt8(ascii: "-"))
        digits(parts.tm_mday, 2, then: UInt8(ascii: "T"))
        digits(parts.tm_hour, 2, then: UInt8(ascii: ":"))
        digits(parts.tm_min, 2, then: UInt8(ascii: ":"))
        digits(parts.tm_sec, 2, then: nil)
        if nanos != 0 {
            var fraction = Int32(nanos), width = 9
            while fraction % 10 == 0 {
                fraction /= 10
                width -= 1
            }
            out.append(UInt8(ascii: "."))
            digits(fraction, width, then: nil)
        }
        out.append(UInt8(ascii: "Z"))
    }

    /// Kubernetes' metav1.Time: RFC 3339 in UTC with whole seconds ("2026-11-22T15:40:14Z").
    public static func rfc3339Seconds(nanosSinceEpoch: Int64) -> String {
        let n = nanosSinceEpoch
        let fraction = ((n % 1_000_000_000) + 1_000_000_000) % 1_000_000_000
        let (whole, overflow) = n.subtractingReportingOverflow(fraction)
        return rfc3339Nano(nanosSinceEpoch: overflow ? n : whole)
    }

    /// An RFC 3339 time ("2026-11-22T15:40:14.123456789Z", "…+01:00", the fraction optional) to
    /// nanoseconds since the epoch, keeping every digit of the fraction; Go's zero time ("0001-…",
    /// what Docker reports for a container never started), times outside what Int64 nanoseconds
    /// hold (before 1677-09-21 or after 2262-04-11) and anything else are nil.
    public static func parseRFC3339(_ text: String) -> Int64? {
        guard !text.hasPrefix("0001-") else { return nil }
        var base = text
        var fraction: Int64 = 0
        if let dot = text.firstIndex(of: "."),
           let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "z" || $0 == "+" || $0 == "-" }) {
            let digits = text[text.index(after: dot)..<zone]
            guard !digits.isEmpty, let value = Int64(digits.prefix(9)) else { return nil }
            fraction = value * (0..<(9 - min(digits.count, 9))).reduce(1) { a, _ in a * 10 }
            base = String(text[..<dot]) + String(text[zone...])
        }
        guard let date = try? Date(base, strategy: .iso8601),
              let seconds = Int64(exactly: date.timeIntervalSince1970.rounded()) else { return nil }
        let (nanos, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, carry) = nanos.addingReportingOverflow(fraction)
        return carry ? nil : total
    }
}
