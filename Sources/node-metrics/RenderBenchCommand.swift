import ArgumentParser
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// Hidden: times the exporter's two outputs on the host's (or the flags' whitelisted) cgroups — one
/// remote-write request (`RemoteWriter.render`: the series collected into a WriteRequest, then
/// snappy) and one `/metrics` render (`PrometheusExporter.scrape`) — and prints µs per call.
/// Nothing is served or sent. Run by `Benchmarks/render-bench.sh`, which makes the cgroups.
struct RenderBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render-bench",
        abstract: "Time one remote-write request build and one /metrics render (benchmark; nothing is served or sent).",
        shouldDisplay: false)

    @Option(name: .customLong("rounds"), help: "Timed calls of each kind (after as many warm-up calls as a tenth of them).")
    var rounds = 300

    @Option(name: .customLong("containers"), help: "Wait until at least this many containers have a sample.")
    var containers = 1

    /// The agent's flags (filters, label mode, metric kinds, -remote_write_url and its external labels).
    @OptionGroup var serve: Serve

    func run() throws {
        var managerConfiguration = try serve.managerConfiguration()
        managerConfiguration.backends = nil
        let manager = try ContainerManager(configuration: managerConfiguration)
        guard manager.start() else { throw HousekeepingNotStarted() }
        defer { manager.stop() }
        let deadline = ContinuousClock.now + .seconds(120)
        while sampled(manager) < containers {
            guard ContinuousClock.now < deadline else {
                throw ValidationError("only \(sampled(manager)) of \(containers) containers were sampled within 120 s")
            }
            usleep(200_000)
        }
        let exporter = PrometheusExporter(manager: manager, configuration: try serve.metricsConfiguration())
        guard let remoteWrite = try serve.remoteWriteConfiguration() else {
            throw ValidationError("render-bench needs -remote_write_url (nothing is sent to it)")
        }
        let writer = try RemoteWriter(configuration: remoteWrite, exporter: exporter)

        let warmUp = max(rounds / 10, 3)
        var request = writer.render()
        let raw = RemoteWriteEncoding.unsnappy(request.body) ?? []
        func micros(_ body: () -> Void) -> [Int64] {
            BenchTiming.sorted(rounds: rounds, warmUp: warmUp, body).map { $0.nanoseconds / 1000 }
        }
        let renderMicros = micros { request = writer.render() }
        var scrapeBytes = 0
        let scrapeMicros = micros { scrapeBytes = exporter.scrape().count }
        var compressed = 0
        let snappyMicros = micros { compressed = RemoteWriteEncoding.snappy(raw).count }
        print("render-bench: \(sampled(manager)) containers, \(request.samples) series, WriteRequest \(raw.count) B "
              + "(\(compressed) B snappy), /metrics \(scrapeBytes) B, \(rounds) rounds")
        for (what, sorted) in [("remote-write request (build + snappy)", renderMicros),
                               ("  of which snappy alone", snappyMicros),
                               ("/metrics render", scrapeMicros)] {
            print("render-bench: \(what): median \(sorted[sorted.count / 2]) µs, p10 \(sorted[sorted.count / 10]) µs, "
                  + "p90 \(sorted[sorted.count * 9 / 10]) µs")
        }
    }

    /// Containers whose newest sample exists.
    private func sampled(_ manager: ContainerManager) -> Int {
        manager.store.names.reduce(0) { $0 + (manager.store.snapshot($1, count: 1)?.samples.isEmpty == false ? 1 : 0) }
    }
}
