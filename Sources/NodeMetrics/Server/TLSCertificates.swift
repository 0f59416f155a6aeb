import NIOCore
import NIOSSL
import Synchronization

/// TLS on the listener (swift-nio-ssl): the certificate chain of `-tls_cert_file` and the key of
/// `-tls_key_file` (PEM), TLS 1.2 or later. With `-tls_client_ca_file`, clients are asked for a
/// certificate and one that is presented must chain to those CAs or the handshake fails, as the
/// kubelet does; a connection whose certificate was verified is authenticated (`AccessPolicy`).
/// `reload()` (SIGHUP, or a change of the files' contents) builds a new context that every new
/// connection uses; open connections keep theirs. A reload that fails keeps the loaded context.
public final class TLSCertificates: WatchedCredentialFiles {
    /// `-tls_cert_file`: the certificate, then the rest of its chain.
    public let certificateFile: String
    /// `-tls_key_file`.
    public let keyFile: String
    /// nil: client certificates are not asked for.
    public let clientCAFile: String?
    public let watch = FileContentsWatch()

    private struct Loaded {
        var context: NIOSSLContext
        var serial: String
        var clientCAs: Int
    }
    private let loaded: Mutex<Loaded>

    /// Loads the files; one that cannot be read or parsed, or a key that is not the certificate's, is
    /// an error naming the file.
    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) throws(CredentialFileError) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
        loaded = Mutex(try Self.load(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile))
        watch.changed(paths)
    }

    public var paths: [String] { [certificateFile, keyFile] + (clientCAFile.map { [$0] } ?? []) }

    /// Whether clients are asked for certificates.
    public var verifiesClients: Bool { clientCAFile != nil }

    /// The serial number (hex) of the served certificate.
    public var serial: String { loaded.withLock { $0.serial } }

    public var loadedSummary: String {
        loaded.withLock { "certificate serial \($0.serial)" + (clientCAFile == nil ? "" : ", \($0.clientCAs) client CAs") }
    }

    public func reload() throws(CredentialFileError) {
        watch.changed(paths)
        let fresh = try Self.load(certificateFile: certificateFile, keyFile: keyFile, clientCAFile: clientCAFile)
        loaded.withLock { $0 = fresh }
    }

    /// The handler that runs TLS on a new connection, with the context loaded last.
    func makeHandler() -> NIOSSLServerHandler {
        NIOSSLServerHandler(context: loaded.withLock { $0.context })
    }

    private static func load(certificateFile: String, keyFile: String,
                             clientCAFile: String?) throws(CredentialFileError) -> Loaded {
        let chain = try certificates(certificateFile)
        guard let leaf = chain.first else { throw CredentialFileError(path: certificateFile, reason: "holds no certificate") }
        guard let keyText = HostFiles.read(keyFile) else { throw CredentialFileError(path: keyFile, reason: "cannot be read") }
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(bytes: Array(keyText.utf8), format: .pem)
        } catch {
            throw CredentialFileError(path: keyFile, reason: "not a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) },
                                                                     privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        var clientCAs = 0
        if let clientCAFile {
            let cas = try certificates(clientCAFile)
            guard !cas.isEmpty else { throw CredentialFileError(path: clientCAFile, reason: "holds no certificate") }
            clientCAs = cas.count
            configuration.trustRoots = .certificates(cas)
            configuration.certificateVerification = .optionalVerification
            configuration.sendCANameList = true
        }
        do {
            let context = try NIOSSLContext(configuration: configuration)
            return Loaded(context: context, serial: leaf.serialNumberHex, clientCAs: clientCAs)
        } catch {
            throw CredentialFileError(path: keyFile, reason: "does not match the certificate of \(certificateFile) (\(error))")
        }
    }

    /// Every certificate of a PEM file; the error names the file.
    private static func certificates(_ path: String) throws(CredentialFileError) -> [NIOSSLCertificate] {
        guard let text = HostFiles.read(path) else { throw CredentialFileError(path: path, reason: "cannot be read") }
        do {
            return try NIOSSLCertificate.fromPEMBytes(Array(text.utf8))
        } catch {
            throw CredentialFileError(path: path, reason: "not a PEM certificate (\(error))")
        }
    }
}

extension NIOSSLCertificate {
    /// The serial number in lower-case hex without leading zeros, as `openssl x509 -serial` shows it
    /// (there in upper case).
    var serialNumberHex: String {
        let hex = serialNumber.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        let trimmed = hex.drop { $0 == "0" }
        return trimmed.isEmpty ? "0" : String(trimmed)
    }
}
