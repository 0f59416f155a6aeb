import Foundation
import Testing
@testable import NodeMetrics

/// A process started by a test, stopped (SIGTERM, then SIGKILL) when the value goes away.
final class ChildProcess {
    let process = Process()
    let output = Pipe()

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    /// Everything it printed (after it stopped).
    var log: String { String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
}

/// The agent binary on a random loopback port, waited for until /healthz says it is ready.
struct RunningAgent {
    let child: ChildProcess
    let port: Int

    /// `launcher`: a command the agent is started through (its arguments end before the agent's path).
    /// `ready`: whether the agent on a port is ready (default: plain HTTP /healthz answers 200).
    init(_ extra: [String] = [], environment: [String: String]? = nil, launcher: [String] = [],
         ready: ((Int) -> Bool)? = nil) throws {
        var lastError: Error?
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000)
            let agent = [Package.root + "/.build/debug/node-metrics",
                         "-port=\(port)", "-listen_ip=127.0.0.1", "-housekeeping_interval=500ms",
                         "-allow_dynamic_housekeeping=false"] + extra
            let command = launcher + agent
            let child = try ChildProcess(command[0], Array(command.dropFirst()), environment: environment)
            let deadline = Date().addingTimeInterval(15 * TestTiming.slowdown)
            while child.process.isRunning && Date() < deadline {
                // 200 only once the first discovery pass is done (503 before).
                if ready?(port) ?? ((try? LoopbackHTTP.get(port: port, "/healthz"))?.status == 200) {
                    self.child = child
                    self.port = port
                    return
                }
                usleep(100_000)
            }
            child.stop()
            lastError = TestFailure("agent did not answer on port \(port): \(child.log)")
        }
        throw lastError!
    }

    func get(_ path: String, headers: String = "") throws -> (status: Int, headers: String, body: String) {
        try LoopbackHTTP.request(port: port, "GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)Connection: close\r\n\r\n")
    }

    /// Stops the agent and returns the system calls its seccomp sandbox refused (the start-up
    /// self-check's mount(2) aside): empty when everything it did ran inside the sandbox.
    func stopAndCollectSandboxRefusals() -> [Substring] {
        child.stop()
        return child.log.split(separator: "\n").filter { $0.contains("seccomp refused") && !$0.contains("syscall=mount") }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Runs a command to completion; its output goes through a file, never a pipe. `closingDescriptors`:
/// the command's inherited descriptors above 2 are closed before it starts — for commands that leave
/// daemons behind (podman's conmon), which would otherwise hold Foundation's exit-watch socket open.
@discardableResult
func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
         closingDescriptors: Bool = false) throws -> (status: Int32, output: String) {
    let p = Process()
    if closingDescriptors {
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        let close = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; exec "$0" "$@""#
        p.arguments = ["-c", close, executable] + arguments
    } else {
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
    }
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("nm-run-\(getpid())-\(UUID().uuidString)").path
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    p.standardOutput = out
    p.standardError = out
    let input = Pipe()
    if stdin != nil { p.standardInput = input }
    try p.run()
    if let stdin {
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
    }
    p.waitUntilExit()
    try out.close()
    return (p.terminationStatus, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}

@Suite(.serialized) struct PrometheusScrapeTests {
    @Test func promtoolParsesTheExposition() throws {
        let agent = try RunningAgent(["-enable_metrics=cpu,percpu,memory,cpuLoad,diskIO,disk,network,tcp,udp,process,oom_event,pressure,cpu_topology"])
        defer { agent.child.stop() }
        usleep(1_200_000)
        let metrics = try agent.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers.lowercased().contains("content-type: text/plain; version=0.0.4"))
        let promtool = try run("/usr/bin/promtool", ["check", "metrics"], stdin: metrics.body)
        // 0: clean, 3: lint remarks only (cAdvisor's own names draw some); 1 would be a parse error.
        #expect(promtool.status == 0 || promtool.status == 3, "\(promtool.output)")
        #expect(!promtool.output.contains("error"), "\(promtool.output)")
        // gzip when asked for.
        let gz = try agent.get("/metrics", headers: "Accept-Encoding: gzip\r\n")
        #expect(gz.headers.lowercased().contains("content-encoding: gzip"))
        #expect(!gz.body.contains("# TYPE"))
        // Timestamps off on request of the flag.
        let plain = try RunningAgent(["-prometheus_timestamps=false", "-prometheus_labels=kubernetes"])
        defer { plain.child.stop() }
        usleep(1_200_000)
        let body = try plain.get("/metrics").body
        let line = try #require(body.split(separator: "\n").first { $0.hasPrefix("container_memory_usage_bytes{") })
        #expect(line.split(separator: " ").count == 2, "\(line)")
        #expect(line.contains("namespace=\"\"") && line.contains("pod=\"\""))
    }

    @Test func aRealPrometheusScrapesTheAgent() throws {
        let agent = try RunningAgent()
        defer { agent.child.stop() }
        let server = try RunningPrometheus(scrapeConfigs: """
              - job_name: node-metrics
                static_configs:
                  - targets: ['127.0.0.1:\(agent.port)']
            """)
        func query(_ q: String) throws -> [[String: Any]] { try server.query(q) }
        func value(_ series: [String: Any]) -> Double? { RunningPrometheus.value(series) }
        let deadline = Date().addingTimeInterval(60)
        var up: [[String: Any]] = []
        var rate: [[String: Any]] = []
        while Date() < deadline {
            up = (try? query("up{job=\"node-metrics\"}")) ?? []
            rate = (try? query("rate(container_cpu_usage_seconds_total{id=\"/\"}[10s])")) ?? []
            if up.first.flatMap(value) == 1, !rate.isEmpty { break }
            usleep(500_000)
        }
        #expect(up.first.flatMap(value) == 1, "up == 1")
        #expect(!rate.isEmpty, "rate(container_cpu_usage_seconds_total[10s]) answers")
        #expect(rate.allSatisfy { (value($0) ?? -1) >= 0 })
        let version = try query("cadvisor_version_info")
        #expect((version.first?["metric"] as? [String: String])?["cadvisorVersion"] == AgentVersion.current)
    }
}
