import Foundation
import Testing

/// A real Prometheus (/usr/bin/prometheus, from scripts/install-deps.sh --test) on a random loopback
/// port, scraping every second with the given `scrape_configs` entries; its configuration and data
/// live in a temporary directory. Stopped when the value goes away.
final class RunningPrometheus {
    let directory: TemporaryDirectory
    let child: ChildProcess
    let port: Int

    /// `scrapeConfigs`: YAML list items (each starting `- job_name:`), indented by two spaces;
    /// `arguments`: more command-line flags (`--web.enable-remote-write-receiver`).
    init(scrapeConfigs: String, arguments: [String] = []) throws {
        directory = try TemporaryDirectory()
        let config = """
        global:
          scrape_interval: 1s
          evaluation_interval: 1s
        scrape_configs:
        \(scrapeConfigs)
        """
        try config.write(toFile: directory.file("prometheus.yml"), atomically: true, encoding: .utf8)
        for _ in 0..<5 {
            let port = Int.random(in: 20000...60000)
            let p = try ChildProcess("/usr/bin/prometheus", ["--config.file=\(directory.file("prometheus.yml"))",
                                                             "--storage.tsdb.path=\(directory.file("data"))",
                                                             "--web.listen-address=127.0.0.1:\(port)"] + arguments)
            usleep(1_000_000)
            if p.process.isRunning {
                child = p
                self.port = port
                return
            }
            p.stop()
        }
        throw TestFailure("prometheus did not start")
    }

    deinit { child.stop() }

    /// The answer of an instant query: its result, or Prometheus's error (a bad expression is a 400).
    func evaluate(_ q: String) throws -> (result: [[String: Any]], error: String?) {
        let encoded = q.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? q
        let r = try LoopbackHTTP.get(port: port, "/api/v1/query?query=\(encoded)")
        guard let json = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else {
            return ([], "status \(r.status): \(r.body)")
        }
        if let error = json["error"] as? String { return ([], error) }
        let result = (json["data"] as? [String: Any])?["result"] as? [[String: Any]] ?? []
        return (result, nil)
    }

    /// The series of an instant query ([] on any error).
    func query(_ q: String) throws -> [[String: Any]] {
        try evaluate(q).result
    }

    /// The value of an instant-vector series.
    static func value(_ series: [String: Any]) -> Double? {
        ((series["value"] as? [Any])?.last as? String).flatMap(Double.init)
    }

    /// `up` of each job's target, once every job in `expected` has that value (or after `seconds`).
    func waitForUp(_ expected: [String: Double], seconds: Double = 60) throws -> [String: Double] {
        var seen: [String: Double] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            for series in (try? query("up")) ?? [] {
                if let job = (series["metric"] as? [String: String])?["job"], let v = Self.value(series) { seen[job] = v }
            }
            if expected.allSatisfy({ seen[$0.key] == $0.value }) { break }
            usleep(500_000)
        }
        return seen
    }
}
