import ArgumentParser
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// `node-metrics healthcheck`: GET /healthz on the local agent and exit 0 (200) or 1, printing one
/// line. The image's HEALTHCHECK and the chart's exec probes run it. The listener's flags are taken
/// from the agent's own command line (`-agent_pid`, PID 1 in the container) when it is node-metrics,
/// so a DaemonSet that passes `-port=9100` needs no second copy of it; flags given here win.
struct Healthcheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask the local agent's /healthz; exit 0 when it answers 200, 1 (with the reason) otherwise.")

    @Option(name: flag("listen_ip"), help: "The agent's -listen_ip (default: the agent's, else all addresses, dialled on loopback).")
    var listenIP: String?
    @Option(name: flag("port"), help: "The agent's -port (default: the agent's, else 8080).")
    var port: Int?
    @Option(name: flag("url_base_prefix"), help: "The agent's -url_base_prefix (default: the agent's).")
    var urlBasePrefix: String?
    @Option(name: flag("scheme"), help: "http or https (default: https when the agent has -tls_cert_file).")
    var scheme: String?
    @Option(name: flag("timeout"), help: "Give up after this long.")
    var timeout: Duration = .seconds(2)
    @Option(name: flag("agent_pid"), help: "The process whose command line gives the defaults (0: none).")
    var agentPID = 1

    func validate() throws {
        if let scheme, scheme != "http", scheme != "https" { throw ValidationError("-scheme must be http or https, not \(scheme)") }
    }

    func run() throws {
        var probe = HealthProbe(timeout: timeout)
        if agentPID > 0, let agent = Self.agentServe(pid: agentPID) {
            probe.listenIP = agent.listenIP
            probe.port = agent.port
            probe.urlBasePrefix = agent.urlBasePrefix
            probe.tls = !agent.security.tlsCertFile.isEmpty
        }
        if let listenIP { probe.listenIP = listenIP }
        if let port { probe.port = port }
        if let urlBasePrefix { probe.urlBasePrefix = urlBasePrefix }
        if let scheme { probe.tls = scheme == "https" }
        let outcome = probe.run()
        print(outcome.line)
        if !outcome.healthy { throw ExitCode(1) }
    }

    /// The agent's flags as `serve` parses them, when `pid` runs node-metrics' daemon (nil otherwise).
    static func agentServe(pid: Int) -> Serve? {
        let fd = open("/proc/\(pid)/cmdline", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        var words = bytes.split(separator: 0, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        if words.last == "" { words.removeLast() }
        guard let program = words.first, program.split(separator: "/").last == "node-metrics" else { return nil }
        var arguments = Array(words.dropFirst())
        if arguments.first == "serve" { arguments.removeFirst() }
        if let first = arguments.first, !first.hasPrefix("-") { return nil } // another subcommand
        return try? Serve.parse(GoFlags.normalize(arguments, booleans: Serve.booleanFlags))
    }
}
