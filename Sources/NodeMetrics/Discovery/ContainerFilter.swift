/// Which cgroups are containers: every cgroup directory, unless `docker_only` is set, in which case
/// only the root, runtime-managed containers and cgroups under `raw_cgroup_prefix_whitelist` are.
public struct ContainerFilter: Sendable, Equatable {
    public var dockerOnly: Bool
    public var rawPrefixWhitelist: [String]

    public init(dockerOnly: Bool = false, rawPrefixWhitelist: [String] = []) {
        self.dockerOnly = dockerOnly
        self.rawPrefixWhitelist = rawPrefixWhitelist.filter { !$0.isEmpty }
    }

    /// Whether the cgroup `name` is collected: with `docker_only`, the root, runtime containers
    /// (named as `ContainerIdentity` recognises them) and whitelisted raw cgroups.
    public func includesRaw(_ name: String) -> Bool {
        if name == "/" || !dockerOnly { return true }
        if ContainerIdentity.parse(name) != nil { return true }
        return rawPrefixWhitelist.contains { name.hasPrefix($0) }
    }
}

/// A change in the set of known containers.
public enum ContainerChange: Equatable, Sendable {
    case added(String)
    case removed(String)

    public var name: String {
        switch self {
        case .added(let n), .removed(let n): n
        }
    }
}
