import CCgroupFast

/// A C core status turned into a Swift error.
public enum CgroupError: Error, Equatable, CustomStringConvertible {
    /// No mounted hierarchy has a cgroup by that name.
    case notFound(name: String)
    /// The name is not absolute or climbs out of the hierarchy with "..".
    case invalidName(name: String)
    /// The cgroup was removed while it was being read.
    case gone(name: String)
    /// None of the cgroup hierarchies could be opened.
    case noHierarchy(String)
    /// Another failure of the C core, with its status text.
    case failed(name: String, status: Int32)

    public var description: String {
        switch self {
        case .notFound(let name): "\(name) is not a cgroup: no mounted cgroup hierarchy has it"
        case .invalidName(let name): "invalid cgroup name \"\(name)\": it must be absolute and must not contain .."
        case .gone(let name): "cgroup \(name) disappeared while it was being read"
        case .noHierarchy(let what): "cannot open the cgroup hierarchies: \(what)"
        case .failed(let name, let status): "reading cgroup \(name) failed: \(Status.text(status))"
        }
    }
}

/// Status codes of the C core.
enum Status {
    static func text(_ status: Int32) -> String { String(cString: cgf_status_string(status)) }
}
