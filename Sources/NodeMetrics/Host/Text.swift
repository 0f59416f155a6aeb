/// Small text helpers so the agent needs only FoundationEssentials (no CharacterSet).
extension StringProtocol {
    /// Without leading and trailing spaces, tabs and newlines.
    public var trimmed: String {
        let isSpace = { (c: Character) in c == " " || c == "\t" || c == "\n" || c == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}

extension String {
    /// The text of a C buffer up to its first NUL (all of it without one), decoded as UTF-8 with
    /// invalid bytes replaced: an error message, a name the C core or the kernel wrote.
    init(nulTerminated buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Replaces each `marker` followed by two hex digits with the byte they name: `%2e` in URLs,
    /// `\x2d` in systemd unit names. Anything else stays as it is.
    func decodingHexEscapes(marker: String) -> String {
        let m = Array(marker.utf8)
        let u = Array(utf8)
        guard u.count > m.count, !m.isEmpty else { return String(self) }
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var i = 0
        while i < u.count {
            if i + m.count + 1 < u.count, u[i..<(i + m.count)].elementsEqual(m),
               let v = UInt8(String(decoding: u[(i + m.count)...(i + m.count + 1)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += m.count + 2
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension StringProtocol {
    /// Whether `other` occurs in the text, by the standard library's search. A plain `contains("…")`
    /// resolves to Foundation's (visible through the dependencies that import it), which links all of
    /// Foundation and ICU's 35 MB data table into the agent (Benchmarks/side-by-side.sh checks the
    /// binary holds none of Foundation).
    public func includes(_ other: some StringProtocol) -> Bool {
        firstRange(of: other) != nil
    }
}
