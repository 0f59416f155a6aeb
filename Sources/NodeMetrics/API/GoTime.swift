import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Go's time.RFC3339Nano rendering of a UTC instant: trailing zeros of the fraction dropped.
public enum GoTime {
    public static func rfc3339Nano(nanosSinceEpoch: Int64) -> String {
        var seconds = time_t(nanosSinceEpoch / 1_000_000_000)
        var nanos = nanosSinceEpoch % 1_000_000_000
        if nanos < 0 {
            nanos += 1_000_000_000
            seconds -= 1
        }
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        var out = "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))"
        out += "T\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2))"
        if nanos != 0 {
            var fraction = pad(Int32(nanos), 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            out += "." + fraction
        }
        return out + "Z"
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
