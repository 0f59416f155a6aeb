import ArgumentParser
import NodeMetrics

/// `-remote_write_*`: Prometheus remote write of what `/metrics` shows (beyond cAdvisor).
struct RemoteWriteFlags: ParsableArguments {
    @Option(name: flag("remote_write_url"), help: "Push the /metrics series with Prometheus remote write 1.0 to this URL (repeatable: each gets every request).")
    var urls: [String] = []
    @Option(name: flag("remote_write_bearer_token_file"), help: "File whose first line is the bearer token sent to the remote-write URLs (re-read at each send).")
    var bearerTokenFile: String?
    @Option(name: flag("remote_write_basic_auth_file"), help: "File whose first line is user:password for basic auth to the remote-write URLs (re-read at each send).")
    var basicAuthFile: String?
    @Option(name: flag("remote_write_ca_file"), help: "PEM CA that https remote-write URLs' certificates are checked against (default: the system's).")
    var caFile: String?
    @Option(name: flag("remote_write_interval"), help: "How often the series are pushed (default: -housekeeping_interval).")
    var interval: Duration?
    @Option(name: flag("remote_write_external_labels"), help: "Labels added to every pushed series that lacks them: name=value,name2=value2.")
    var externalLabels = ""

    /// The configuration, or nil when no URL is given; errors name the flag.
    func configuration(housekeepingInterval: Duration, bufferDuration: Duration) throws -> RemoteWriteConfiguration? {
        let anySet = bearerTokenFile != nil || basicAuthFile != nil || caFile != nil || interval != nil || !externalLabels.isEmpty
        guard !urls.isEmpty else {
            if anySet { throw ValidationError("-remote_write_* flags need at least one -remote_write_url") }
            return nil
        }
        var c = RemoteWriteConfiguration()
        c.urls = urls
        c.bearerTokenFile = bearerTokenFile
        c.basicAuthFile = basicAuthFile
        c.caFile = caFile
        c.interval = interval ?? housekeepingInterval
        guard c.interval > .zero else { throw ValidationError("-remote_write_interval must be positive") }
        c.bufferDuration = bufferDuration
        do {
            c.externalLabels = try RemoteWriteConfiguration.parseExternalLabels(externalLabels)
        } catch {
            throw ValidationError(error.description)
        }
        return c
    }
}
