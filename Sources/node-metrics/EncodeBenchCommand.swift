import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import NodeMetrics

/// Hidden benchmark (`node-metrics encode-bench`): what the JSON storage drivers spend per sample on
/// their wire bytes. Samples every cgroup of this host for a moment (as the agent does), then encodes
/// `--samples` stored samples (the host's, repeated) as each driver does for one batch — redis's
/// `MULTI`/`LPUSH`/`EXEC` transaction, kafka's messages, elasticsearch's bulk body — and the v1
/// ContainerStats JSON alone (what /api/v1.3 and /api/v2.x write per sample), and prints ns/sample.
/// No network: the sending itself is measured by Benchmarks/storage-bench.sh.
struct EncodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode-bench",
        abstract: "Measure the JSON storage drivers' per-sample encoding cost (ns/sample).",
        shouldDisplay: false)

    @Option(help: "Samples per batch.")
    var samples = 200

    @Option(help: "Timed batches per encoder (after 5 warm-up ones); the median and the fastest are printed.")
    var rounds = 200

    @Option(help: "Only these encoders (comma-separated: v1,redis,kafka,elasticsearch).")
    var only = "v1,redis,kafka,elasticsearch"

    @Option(name: .customLong("root"), help: "Prefix under which the host's /proc and /sys are read.")
    var root: String = "/"

    func run() throws {
        guard samples > 0, rounds > 0 else { throw ValidationError("--samples and --rounds must be positive") }
        let batch = try hostSamples()
        let machine = "bench-node.example", key = "cadvisor", sendTime: Int64 = 1_795_000_000_123_456_789
        var es = ElasticsearchDriver.Configuration()
        es.host = "http://127.0.0.1:9"
        let elasticsearch = try ElasticsearchDriver(configuration: es, machine: machine)
        var options = StorageOptions()
        options.host = "127.0.0.1:6379"
        options.db = key
        options.machineName = machine
        let redis = try RedisDriver(options: options)
        let encoders: [(String, () -> Int)] = [
            ("v1", {
                var n = 0
                for s in batch {
                    var w = JSONWriter()
                    CAdvisorV1Stats.write(s.sample, to: &w)
                    n += w.bytes.count
                }
                return n
            }),
            ("redis", { redis.transaction(batch).count }),
            ("kafka", {
                var n = 0
                KafkaDriver.messages(batch, sendTimeNanos: sendTime, machine: machine) { n += $0.count }
                return n
            }),
            ("elasticsearch", { elasticsearch.bulkBody(batch).count }),
        ]
        let wanted = Set(only.split(separator: ",").map(String.init))
        for (name, encode) in encoders where wanted.contains(name) {
            var bytes = 0
            let times = BenchTiming.sorted(rounds: rounds, warmUp: 5) { bytes = encode() }
                .map { Double($0.nanoseconds) / Double(batch.count) }
            func pad(_ text: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - text.count)) + text }
            print("encode-bench: \(name + String(repeating: " ", count: max(0, 14 - name.count)))"
                  + " median \(pad(String(Int(times[times.count / 2].rounded())), 7)) ns/sample"
                  + "  fastest \(pad(String(Int(times[0].rounded())), 7)) ns/sample  \(pad(String(bytes / batch.count), 6)) bytes/sample")
        }
    }

    /// The latest sample of every cgroup here after housekeeping has run twice, repeated to `samples`.
    private func hostSamples() throws -> [StoredSample] {
        var c = ManagerConfiguration()
        c.paths = HostPaths(root: root)
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(500), maxInterval: .seconds(1), dynamic: false)
        let manager = try ContainerManager(configuration: c)
        guard manager.start() else { throw HousekeepingNotStarted() }
        var request = timespec(tv_sec: 1, tv_nsec: 500_000_000), remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
        manager.stop()
        let found = manager.store.names.compactMap { name in
            manager.store.latest(name).map {
                StoredSample(containerName: name, metadata: manager.store.metadata(name) ?? ContainerMetadata(), sample: $0)
            }
        }
        guard !found.isEmpty else { throw ValidationError("no cgroup sampled") }
        print("encode-bench: \(found.count) cgroups sampled, \(samples) samples per batch, \(rounds) batches per encoder")
        return (0..<samples).map { found[$0 % found.count] }
    }
}
