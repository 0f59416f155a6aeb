import ArgumentParser

/// Go's flag package accepts `-name`, `--name`, `-name=value`, `--name value`; a boolean flag is
/// `-name` alone or `-name=true|false`, never `-name false`. ArgumentParser handles the valued forms
/// with single-dash long names; this rewrites a bare boolean flag to `--name=true` first, so
/// cAdvisor command lines work unchanged.
enum GoFlags {
    static func normalize(_ arguments: [String], booleans: Set<String>) -> [String] {
        arguments.map { arg in
            guard arg.hasPrefix("-"), !arg.contains("=") else { return arg }
            let name = String(arg.drop { $0 == "-" })
            return booleans.contains(name) ? "--\(name)=true" : arg
        }
    }
}

/// A boolean as Go's strconv.ParseBool reads it: 1 t T TRUE true True / 0 f F FALSE false False.
struct GoBool: ExpressibleByArgument, Equatable, CustomStringConvertible {
    var value: Bool
    init(_ value: Bool) { self.value = value }
    init?(argument: String) {
        switch argument {
        case "1", "t", "T", "TRUE", "true", "True": value = true
        case "0", "f", "F", "FALSE", "false", "False": value = false
        default: return nil
        }
    }
    var description: String { value ? "true" : "false" }
    var defaultValueDescription: String { description }
}
