/// Who may read what. cAdvisor's passwords (`-http_auth_file`/`-http_digest_file`) protect the web
/// UI, or every endpoint with `-http_auth_all_endpoints`. Bearer tokens (`-http_token_file`) and
/// client certificates (`-tls_client_ca_file`) protect every endpoint but `/healthz`, which stays
/// open for probes. A protected request passes with any one of the configured credentials: a
/// verified client certificate (checked in the TLS handshake), a known bearer token, or the
/// password; otherwise it is a 401 that challenges for each scheme in use.
extension APIRouter {
    /// Whether `path` (below the URL prefix) is served without credentials.
    func isOpen(_ path: String) -> Bool {
        if path == "/healthz" { return true }
        if tokens != nil || clientCertificates { return false }
        return authenticator == nil || !needsAuthentication(path)
    }

    /// Whether `request` carries a verified client certificate or a known token: checks cheap enough
    /// for the event loop (a password's bcrypt is not), so that such scrapes may share a rendering.
    func passesCheaply(_ request: HTTPRequest) -> Bool {
        request.clientCertificateVerified || tokens?.user(request) != nil
    }

    /// nil when `request` may read `path`, else the 401 to send.
    func refusal(_ request: HTTPRequest, path: String) -> HTTPResponse? {
        if isOpen(path) || passesCheaply(request) { return nil }
        var challenges: [(String, String)] = []
        if tokens != nil {
            let presented = request.header("Authorization").map { $0.lowercased().hasPrefix("bearer ") } ?? false
            challenges.append(("WWW-Authenticate", "Bearer realm=\"node-metrics\"" + (presented ? ", error=\"invalid_token\"" : "")))
        }
        if let authenticator {
            guard let denied = authenticator.authenticate(request) else { return nil }
            challenges += denied.headers.filter { $0.0 == "WWW-Authenticate" }
        }
        var wanted: [String] = []
        if clientCertificates { wanted.append("a client certificate signed by -tls_client_ca_file") }
        if tokens != nil { wanted.append("a bearer token of -http_token_file") }
        if let authenticator { wanted.append("the \(authenticator.scheme) credentials of \(authenticator.path)") }
        return HTTPResponse(status: 401, body: Array("401 Unauthorized: \(wanted.joined(separator: " or ")) is required\n".utf8),
                            headers: challenges)
    }
}
