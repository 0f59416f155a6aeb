/// A Kubernetes label selector (`app=web,tier!=cache,env in (prod,staging),!canary,team`), matched
/// against a container's runtime labels. The syntax is the one `kubectl -l` takes.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    /// The empty selector: selects everything.
    public static let everything = LabelSelector(requirements: [])

    private init(requirements: [Requirement]) { self.requirements = requirements }

    public struct ParseError: Error, CustomStringConvertible, Equatable {
        public var selector: String
        public var reason: String
        public var description: String { "invalid label selector \"\(selector)\": \(reason)" }
    }

    /// Parses a selector; an empty string selects everything.
    public init(parsing text: String) throws(ParseError) {
        var out: [Requirement] = []
        // Split on commas outside parentheses.
        var parts: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 }
            if c == ")" { depth -= 1 }
            if c == "," && depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        parts.append(current)
        guard depth == 0 else { throw ParseError(selector: text, reason: "unbalanced parentheses") }
        func fail(_ why: String) -> ParseError { ParseError(selector: text, reason: why) }
        func key(_ raw: Substring) throws(ParseError) -> String {
            let k = String(raw).trimmed
            guard !k.isEmpty, k.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) else {
                throw fail("bad label key \"\(k)\"")
            }
            return k
        }
        for raw in parts {
            let part = raw.trimmed
            if part.isEmpty {
                if parts.count == 1 { break }
                throw fail("empty requirement")
            }
            if let r = part.firstRange(of: "!=") {
                out.append(.notEquals(try key(part[..<r.lowerBound]), String(part[r.upperBound...]).trimmed))
            } else if let r = part.firstRange(of: "==") {
                out.append(.equals(try key(part[..<r.lowerBound]), String(part[r.upperBound...]).trimmed))
            } else if let r = part.firstRange(of: "=") {
                out.append(.equals(try key(part[..<r.lowerBound]), String(part[r.upperBound...]).trimmed))
            } else if let open = part.firstIndex(of: "(") {
                guard part.hasSuffix(")") else { throw fail("\"\(part)\": missing \")\"") }
                let head = part[..<open].split(separator: " ", omittingEmptySubsequences: true)
                guard head.count == 2 else { throw fail("\"\(part)\": expected KEY in (...) or KEY notin (...)") }
                let values = Set(part[part.index(after: open)..<part.index(before: part.endIndex)]
                    .split(separator: ",").map { String($0).trimmed })
                switch head[1] {
                case "in": out.append(.isIn(try key(head[0]), values))
                case "notin": out.append(.notIn(try key(head[0]), values))
                default: throw fail("\"\(part)\": unknown operator \"\(head[1])\"")
                }
            } else if part.hasPrefix("!") {
                out.append(.doesNotExist(try key(part.dropFirst())))
            } else {
                out.append(.exists(try key(Substring(part))))
            }
        }
        requirements = out
    }

    public var isEmpty: Bool { requirements.isEmpty }

    /// Whether labels satisfy every requirement (as Kubernetes: `!=` and `notin` match a missing key).
    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { r in
            switch r {
            case .equals(let k, let v): return labels[k] == v
            case .notEquals(let k, let v): return labels[k] != v
            case .isIn(let k, let vs): return labels[k].map { vs.contains($0) } ?? false
            case .notIn(let k, let vs): return labels[k].map { !vs.contains($0) } ?? true
            case .exists(let k): return labels[k] != nil
            case .doesNotExist(let k): return labels[k] == nil
            }
        }
    }
}

/// Which containers /metrics exports: by Kubernetes namespace and by label selector (both must
/// match; an empty filter exports everything). Containers without a namespace (the root, raw
/// cgroups) are left out once a namespace is asked for. Machine metrics are never filtered.
public struct MetricsFilter: Sendable, Equatable {
    public var namespaces: Set<String> = []
    public var selector = LabelSelector.everything
    /// Runtimes whose containers are exported ("docker", "podman"; empty: every container).
    public var runtimes: Set<String> = []

    public init(namespaces: Set<String> = [], selector: LabelSelector = .everything) {
        self.namespaces = namespaces
        self.selector = selector
    }

    /// From comma-separated namespaces and a selector string (flags or query parameters).
    public init(namespaces: String, selector: String) throws(LabelSelector.ParseError) {
        self.namespaces = Set(namespaces.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty })
        self.selector = try LabelSelector(parsing: selector)
    }

    public var isEmpty: Bool { namespaces.isEmpty && selector.isEmpty && runtimes.isEmpty }

    public func admits(_ metadata: ContainerMetadata) -> Bool {
        if !namespaces.isEmpty && !namespaces.contains(metadata.podNamespace) { return false }
        if !runtimes.isEmpty && !runtimes.contains(metadata.runtime) { return false }
        return selector.matches(metadata.labels)
    }
}
