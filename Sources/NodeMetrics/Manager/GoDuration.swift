/// Go's time.ParseDuration, as cAdvisor's duration flags and the API's `max_age` are written:
/// "300ms", "1.5h", "2h45m", "-1s"; units ns, us (µs), ms, s, m, h.
public enum GoDuration {
    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var text: String
        public var description: String { "invalid duration \"\(text)\" (examples: 1s, 500ms, 2m, 1h30m)" }
    }

    public static func parse(_ text: String) throws(ParseError) -> Duration {
        var s = Substring(text)
        var negative = false
        if s.first == "-" || s.first == "+" {
            negative = s.first == "-"
            s = s.dropFirst()
        }
        if s == "0" { return .zero }
        guard !s.isEmpty else { throw ParseError(text: text) }
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("μs", 1e3), ("ms", 1e6), ("s", 1e9),
                                         ("m", 60e9), ("h", 3600e9)]
        var totalNanos = 0.0
        while !s.isEmpty {
            let number = s.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, number != ".", let value = Double(number) else { throw ParseError(text: text) }
            s = s.dropFirst(number.count)
            let unitText = s.prefix { !$0.isNumber && $0 != "." }
            guard let unit = units.first(where: { $0.0 == unitText }) else { throw ParseError(text: text) }
            s = s.dropFirst(unitText.count)
            totalNanos += value * unit.1
        }
        guard totalNanos < 9.2e18 else { throw ParseError(text: text) }
        let ns = Int64(totalNanos.rounded())
        return .nanoseconds(negative ? -ns : ns)
    }
}
