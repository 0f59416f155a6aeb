/// Small text helpers so the agent needs only FoundationEssentials (no CharacterSet).
extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    public var trimmed: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\n" || c == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
