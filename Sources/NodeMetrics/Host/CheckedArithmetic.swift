/// Arithmetic on numbers the agent does not control: counters and sizes from kernel files and /proc,
/// answers of runtime sockets, request parameters and flags. Swift traps on `+ - *` overflow and on
/// converting an out-of-range value (`Int64(someDouble)`, `Int32(someInt)`, `UInt64(negative)`), so a
/// value from outside goes through these instead: results saturate at the type's bounds, which is
/// what "more than can be counted" means for a gauge or a counter, and nothing wraps unless the code
/// says so at the place it does. The one place these helpers live; every layer above Host uses them.
extension FixedWidthInteger {
    /// `self + other`, or the bound it went past (`.max` above, `.min` below).
    @inlinable func saturatingAdd(_ other: Self) -> Self {
        let (sum, overflow) = addingReportingOverflow(other)
        guard overflow else { return sum }
        return other < 0 ? .min : .max
    }

    /// `self - other`, or the bound it went past (so 0 for an unsigned counter that went back).
    @inlinable func saturatingSubtract(_ other: Self) -> Self {
        let (difference, overflow) = subtractingReportingOverflow(other)
        guard overflow else { return difference }
        return other < 0 ? .max : .min
    }

    /// `self * other`, or the bound it went past.
    @inlinable func saturatingMultiply(_ other: Self) -> Self {
        let (product, overflow) = multipliedReportingOverflow(by: other)
        guard overflow else { return product }
        return (self < 0) == (other < 0) ? .max : .min
    }

    /// A floating-point value rounded toward zero and clamped to the type's range; NaN is 0.
    /// (`Int64(d)` traps on NaN, on infinities and outside the range; this never does.)
    @inlinable init<F: BinaryFloatingPoint>(saturating value: F) {
        if value.isNaN {
            self = 0
        } else if let exact = Self(exactly: value.rounded(.towardZero)) {
            self = exact
        } else {
            self = value < 0 ? .min : .max
        }
    }
}

extension Sequence where Element: FixedWidthInteger {
    /// The sum, saturating at the type's bounds.
    @inlinable func saturatingSum() -> Element { reduce(0) { $0.saturatingAdd($1) } }
}

extension Clocks {
    /// Nanoseconds from a seconds and nanoseconds pair — a timespec, a protobuf Timestamp, a file's
    /// mtime — saturating instead of trapping for times beyond the year 2262 (or before 1677).
    static func nanoseconds(seconds: Int64, nanos: Int64) -> Int64 {
        seconds.saturatingMultiply(1_000_000_000).saturatingAdd(nanos)
    }
}

extension Duration {
    /// Whole nanoseconds, saturating at the ends of Int64 in the duration's direction.
    public var nanoseconds: Int64 {
        let (s, atto) = components
        return Clocks.nanoseconds(seconds: s, nanos: atto / 1_000_000_000)
    }
}
