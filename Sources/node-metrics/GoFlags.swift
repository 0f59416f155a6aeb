import ArgumentParser

/// Go's flag package accepts `-name`, `--name`, `-name=value`, `--name value`; a boolean flag is
/// `-name` alone or `-name=true|false`, never `-name false`. This rewrites every flag to ArgumentParser's
/// `--name` form (`-v=2` too, which would otherwise be a short option) and a bare boolean flag to
/// `--name=true`, so cAdvisor command lines work unchanged. `-h` stays the help flag; everything after
/// a lone `--` and every non-flag argument is left alone.
enum GoFlags {
    static func normalize(_ arguments: [String], booleans: Set<String>) -> [String] {
        var out: [String] = []
        var passThrough = false
        for arg in arguments {
            if passThrough || !arg.hasPrefix("-") || arg == "-" || arg == "-h" || arg == "--help" || Double(arg) != nil {
                out.append(arg)
                continue
            }
            if arg == "--" {
                passThrough = true
                out.append(arg)
                continue
            }
            let body = String(arg.drop { $0 == "-" })
            let name = String(body.prefix { $0 != "=" })
            if body.hasSuffix("=") && body.count == name.count + 1 {
                out += ["--\(name)", ""] // Go's `-docker=`: an empty value (ArgumentParser wants it separate)
            } else {
                out.append(booleans.contains(name) && !body.includes("=") ? "--\(name)=true" : "--\(body)")
            }
        }
        return out
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
