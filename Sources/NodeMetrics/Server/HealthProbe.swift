import FoundationEssentials

/// `node-metrics healthcheck`: one GET of `<url_base_prefix>/healthz` on the agent's own listener,
/// over HTTPS when the listener uses TLS (the certificate is not checked: it names the node, and
/// the probe only asks its own process on loopback), with a short timeout. The image's HEALTHCHECK
/// and the chart's exec probes run it, so the image needs no shell and no curl.
public struct HealthProbe: Sendable, Equatable {
    /// The agent's `-listen_ip` (empty: all addresses, dialled on loopback).
    public var listenIP: String
    /// The agent's `-port`.
    public var port: Int
    /// The agent's `-url_base_prefix`.
    public var urlBasePrefix: String
    /// Whether the agent serves HTTPS (`-tls_cert_file` set).
    public var tls: Bool
    /// Connect, send and each read give up after this long.
    public var timeout: Duration

    public init(listenIP: String = "", port: Int = 8080, urlBasePrefix: String = "", tls: Bool = false,
                timeout: Duration = .seconds(2)) {
        self.listenIP = listenIP
        self.port = port
        self.urlBasePrefix = urlBasePrefix
        self.tls = tls
        self.timeout = timeout
    }

    /// The address dialled: the listen IP, or loopback when the agent listens on every address.
    public var host: String {
        switch listenIP {
        case "", "0.0.0.0": "127.0.0.1"
        case "::", "[::]": "::1"
        default: listenIP.hasPrefix("[") && listenIP.hasSuffix("]") ? String(listenIP.dropFirst().dropLast()) : listenIP
        }
    }

    /// The request path, with the prefix as the router reads it (a leading slash added, a trailing one dropped).
    public var path: String {
        var p = urlBasePrefix
        while p.hasSuffix("/") { p.removeLast() }
        if !p.isEmpty && !p.hasPrefix("/") { p = "/" + p }
        return p + "/healthz"
    }

    /// The URL as the report line names it.
    public var url: String {
        "\(tls ? "https" : "http")://\(host.includes(":") ? "[\(host)]" : host):\(port)\(path)"
    }

    /// What one probe found: healthy only on a 200, with a one-line reason either way.
    public struct Outcome: Sendable, Equatable {
        public var healthy: Bool
        public var line: String
    }

    /// Asks the agent once.
    public func run() -> Outcome {
        guard (1...65535).contains(port) else { return Outcome(healthy: false, line: "unhealthy: port \(port) is not 1-65535") }
        let client: TLSClient?
        do {
            client = tls ? try TLSClient.unverifiedLoopback() : nil
        } catch {
            return Outcome(healthy: false, line: "unhealthy: \(error.description)")
        }
        let http = UnixHTTPClient(endpoint: .tcp(host: host, port: port, tls: client), timeout: timeout)
        do {
            let response = try http.request("GET", path, maxBody: 4096)
            let body = String(decoding: response.body.prefix(200), as: UTF8.self)
                .split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init) ?? ""
            let said = body.isEmpty ? "" : ": \(body)"
            if response.status == 200 { return Outcome(healthy: true, line: "healthy: \(url) answered 200\(said)") }
            return Outcome(healthy: false, line: "unhealthy: \(url) answered \(response.status)\(said)")
        } catch {
            return Outcome(healthy: false, line: "unhealthy: \(url): \(error.description)")
        }
    }
}
