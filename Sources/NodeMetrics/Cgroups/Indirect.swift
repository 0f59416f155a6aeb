/// Keeps a value out of line behind a shared immutable box. Samples hold their rarely-changing parts
/// (pressure, memory events, disk I/O tables, process counts) this way, so a sample is small inline
/// and the store can let consecutive samples share a part that did not change (`share(with:)`).
@propertyWrapper
public struct Indirect<Value: Sendable & Equatable>: Sendable, Equatable {
    final class Box: Sendable {
        let value: Value
        init(_ value: Value) { self.value = value }
    }
    private var box: Box

    public init(wrappedValue: Value) { box = Box(wrappedValue) }

    public var wrappedValue: Value {
        get { box.value }
        set { box = Box(newValue) }
    }

    public static func == (a: Indirect, b: Indirect) -> Bool { a.box === b.box || a.box.value == b.box.value }

    /// Points at `other`'s box when the values are equal, so only one copy is kept.
    mutating func share(with other: Indirect) {
        if box !== other.box && box.value == other.box.value { box = other.box }
    }

    /// Whether two wrappers use the same box (for tests).
    func sharesStorage(with other: Indirect) -> Bool { box === other.box }
}
