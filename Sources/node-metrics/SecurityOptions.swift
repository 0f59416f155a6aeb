import ArgumentParser
import NodeMetrics

/// Beyond cAdvisor: TLS on the listener and bearer tokens, the kubelet's way (its flag names).
/// Every file is reloaded on SIGHUP and when its contents change (`CredentialReloadService`).
struct SecurityOptions: ParsableArguments {
    @Option(name: flag("tls_cert_file"), help: "Serve HTTPS with this PEM certificate (chain), with -tls_key_file.")
    var tlsCertFile = ""
    @Option(name: flag("tls_key_file"), help: "The PEM private key of -tls_cert_file.")
    var tlsKeyFile = ""
    @Option(name: flag("tls_client_ca_file"), help: "Ask clients for a certificate; one signed by these PEM CAs authenticates the request (needs -tls_cert_file). Every endpoint but /healthz then needs such a certificate, a token or a password.")
    var tlsClientCAFile = ""
    @Option(name: flag("http_token_file"), help: "Bearer tokens, one per line: token or token,user. Every endpoint but /healthz then needs a token (Authorization: Bearer), a client certificate or a password.")
    var httpTokenFile = ""

    /// The listener's TLS, nil for plain HTTP; a file that cannot be used stops start-up naming it.
    func tlsCertificates() throws -> TLSCertificates? {
        if tlsCertFile.isEmpty && tlsKeyFile.isEmpty {
            if !tlsClientCAFile.isEmpty { throw ValidationError("-tls_client_ca_file needs -tls_cert_file and -tls_key_file") }
            return nil
        }
        guard !tlsCertFile.isEmpty, !tlsKeyFile.isEmpty else {
            throw ValidationError("-tls_cert_file and -tls_key_file go together (only \(tlsCertFile.isEmpty ? "-tls_key_file" : "-tls_cert_file") is set)")
        }
        do {
            return try TLSCertificates(certificateFile: tlsCertFile, keyFile: tlsKeyFile,
                                       clientCAFile: tlsClientCAFile.isEmpty ? nil : tlsClientCAFile)
        } catch {
            throw ValidationError("TLS: \(error.description)")
        }
    }

    /// The bearer tokens, nil without -http_token_file; a file that cannot be used stops start-up.
    func bearerTokens() throws -> BearerTokens? {
        guard !httpTokenFile.isEmpty else { return nil }
        do {
            return try BearerTokens(path: httpTokenFile)
        } catch {
            throw ValidationError("-http_token_file: \(error.description)")
        }
    }
}
