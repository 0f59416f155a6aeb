import Synchronization

/// Credentials the agent reads from files and reloads on SIGHUP without a restart: the
/// htpasswd/htdigest file (`HTTPAuthenticator`), the bearer tokens (`BearerTokens`) and the TLS
/// certificate, key and client CA (`TLSCertificates`). A reload that fails keeps what was loaded;
/// its error names the file.
public protocol CredentialFiles: AnyObject, Sendable {
    /// The files read, for logs.
    var paths: [String] { get }
    /// Re-reads the files; on error what was loaded stays.
    func reload() throws(CredentialFileError)
    /// What was loaded, for logs (e.g. "3 tokens", "certificate serial 1f").
    var loadedSummary: String { get }
}

/// Credential files that are also reloaded when they change (tokens and TLS, which Kubernetes
/// rotates in Secret volumes): `reloadIfChanged()` runs every few seconds and reloads when any
/// file's contents differ from the last ones seen (a Secret volume swaps its files through a
/// symlink, so contents are compared, not modification times).
public protocol WatchedCredentialFiles: CredentialFiles {
    /// The last contents seen of `paths` (read at load time and at every check).
    var watch: FileContentsWatch { get }
}

/// A credential file that cannot be used: which one, and why.
public struct CredentialFileError: Error, CustomStringConvertible, Equatable {
    public var path: String
    public var reason: String
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }
    public var description: String { "\(path): \(reason)" }
}

extension WatchedCredentialFiles {
    /// Reloads when the files changed since they were last seen: nil when unchanged, else the
    /// outcome of the reload. A change that fails to load is reported once, not at every check.
    public func reloadIfChanged() -> Result<Void, CredentialFileError>? {
        guard watch.changed(paths) else { return nil }
        do {
            try reload()
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}

/// The contents of a set of files as last seen (nil: unreadable).
public final class FileContentsWatch: Sendable {
    private let seen = Mutex<[String: String?]>([:])

    public init() {}

    /// Reads `paths`; true when any differs from what was seen, which becomes what was seen. A
    /// load calls it first, so that what it loads is what was seen.
    @discardableResult
    func changed(_ paths: [String]) -> Bool {
        let now = Dictionary(paths.map { ($0, HostFiles.read($0)) }, uniquingKeysWith: { a, _ in a })
        return seen.withLock { seen in
            defer { seen = now }
            return seen != now
        }
    }
}
