/// Resolves host paths under one root prefix: `/` when the agent runs on the host,
/// `/rootfs` when the host's filesystem is mounted into the agent's container.
public struct HostPaths: Sendable, Equatable {
    /// The prefix every host path is read under, without a trailing slash (empty for `/`).
    public let root: String

    public init(root: String = "/") {
        var r = root
        while r.count > 1 && r.hasSuffix("/") { r.removeLast() }
        self.root = r == "/" ? "" : r
    }

    /// True when host paths are read directly (root prefix `/`).
    public var isHostRoot: Bool { root.isEmpty }

    /// The path at which the host's `hostPath` is visible to the agent. Host paths are absolute; one
    /// that is not (a mount point or runtime path as some file wrote it) is taken from the host's `/`.
    public func path(_ hostPath: String) -> String {
        hostPath.hasPrefix("/") ? root + hostPath : root + "/" + hostPath
    }
}
