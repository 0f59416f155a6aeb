import CCgroupFast
import Foundation
import Testing
@testable import NodeMetrics

/// A sample as the manager stores it, with recognisable figures.
func storedSample(_ name: String, cpuTotal: UInt64, aliases: [String] = [], runtime: String = "") -> StoredSample {
    var s = ContainerSample()
    s.timestampNanos = 1_583_064_000_123_456_789
    s.cpu.usage.total = cpuTotal
    s.cpu.usage.user = cpuTotal / 2
    s.memory.usage = 104_857_600
    var m = ContainerMetadata()
    m.aliases = aliases
    m.runtime = runtime
    return StoredSample(containerName: name, metadata: m, sample: s)
}

/// librdkafka's mock cluster (real Kafka protocol on loopback ports) and a consumer, both through
/// the C core's wrapper; destroyed when the value goes away.
final class KafkaMockCluster {
    let cluster: OpaquePointer
    let bootstrap: String

    init(topic: String, partitions: Int32 = 3) throws {
        var err = [CChar](repeating: 0, count: 512), servers = [CChar](repeating: 0, count: 512)
        guard let c = cgf_kafka_mock_new(1, topic, partitions, &servers, servers.count, &err, err.count) else {
            throw TestFailure("mock cluster: \(String(nulTerminated: err))")
        }
        cluster = c
        bootstrap = String(nulTerminated: servers)
    }

    func setDown(_ down: Bool) { cgf_kafka_mock_set_down(cluster, down ? 1 : 0) }

    /// Every message of `topic` until `count` came (or `enough` holds for what came) or `seconds`
    /// passed: (topic, key length, payload).
    func consume(_ topic: String, count: Int = .max, seconds: Double = 20,
                 until enough: ([[String: Any]]) -> Bool = { _ in false }) throws -> [(topic: String, keyLength: Int, json: [String: Any])] {
        var err = [CChar](repeating: 0, count: 512)
        guard let consumer = cgf_kafka_consumer_new(bootstrap, topic, &err, err.count) else {
            throw TestFailure("consumer: \(String(nulTerminated: err))")
        }
        defer { cgf_kafka_consumer_destroy(consumer) }
        var out: [(String, Int, [String: Any])] = []
        let deadline = Date().addingTimeInterval(seconds)
        var checked = 0 // `enough` is asked when the topic is idle or every 256 messages, not per message
        while out.count < count && Date() < deadline {
            var payload: UnsafeMutablePointer<CChar>?
            var length = 0, keyLength = 0
            var topicName = [CChar](repeating: 0, count: 256)
            let rc = cgf_kafka_consume(consumer, 500, &payload, &length, &topicName, topicName.count, &keyLength, &err, err.count)
            if rc < 0 { throw TestFailure("consume: \(String(nulTerminated: err))") }
            if (rc != 1 || out.count >= checked + 256) && out.count > checked {
                checked = out.count
                if enough(out.map(\.2)) { break }
            }
            guard rc == 1, let payload else { continue }
            defer { cgf_kafka_free(payload) }
            let data = Data(bytes: payload, count: length)
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            out.append((String(nulTerminated: topicName), keyLength, json))
        }
        return out
    }

    deinit { cgf_kafka_mock_destroy(cluster) }
}

@Suite(.serialized) struct PushDriverTests {
    // MARK: kafka

    @Test func kafkaMessagesReachTheTopicAsCAdvisorWritesThem() throws {
        let mock = try KafkaMockCluster(topic: "stats-test")
        var c = KafkaDriver.Configuration()
        c.brokerList = mock.bootstrap
        c.topic = "stats-test"
        c.messageTimeout = .seconds(3)
        let driver = try KafkaDriver(configuration: c)
        defer { driver.close() }
        let before = Clocks.wallNanos()
        try driver.write([storedSample("/docker/abc", cpuTotal: 5_000_000_000, aliases: ["web", "abc123"], runtime: "docker"),
                          storedSample("/system.slice/x.scope", cpuTotal: 7)])
        let messages = try mock.consume("stats-test", count: 2)
        try #require(messages.count == 2)
        let byName = Dictionary(messages.map { (($0.json["container_Name"] as? String) ?? "", $0) }, uniquingKeysWith: { a, _ in a })
        let docker = try #require(byName["web"]) // Aliases[0]
        #expect(docker.topic == "stats-test")
        #expect(docker.keyLength == -1) // no key, as cAdvisor
        #expect(docker.json["machine_name"] as? String == StorageOptions.hostname())
        #expect(docker.json["container_Id"] as? String == "abc123")
        // timestamp: the send time, RFC 3339 with ns.
        let sentText = try #require(docker.json["timestamp"] as? String)
        let sent = try #require(GoTime.parseRFC3339(sentText))
        #expect(sent >= before - 1_000_000_000 && sent <= Clocks.wallNanos())
        let stats = try #require(docker.json["container_stats"] as? [String: Any])
        #expect(stats["timestamp"] as? String == "2020-03-01T12:00:00.123456789Z")
        let usage = try #require((stats["cpu"] as? [String: Any])?["usage"] as? [String: Any])
        #expect((usage["total"] as? NSNumber)?.uint64Value == 5_000_000_000)
        #expect(((stats["memory"] as? [String: Any])?["usage"] as? NSNumber)?.uint64Value == 104_857_600)
        // A raw cgroup: named by its cgroup, no id.
        let raw = try #require(byName["/system.slice/x.scope"])
        #expect(raw.json["container_Id"] == nil)
        // The key order is cAdvisor's.
        let text = String(decoding: KafkaDriver.message(storedSample("/a", cpuTotal: 1), sendTimeNanos: 0, machine: "node1"), as: UTF8.self)
        #expect(text.hasPrefix("{\"timestamp\":\"1970-01-01T00:00:00Z\",\"machine_name\":"))
        #expect(text.contains(",\"container_Name\":\"/a\",\"container_stats\":{\"timestamp\":"))
    }

    @Test func kafkaBrokersDownFailTheBatchAndItGoesThroughAfter() throws {
        let mock = try KafkaMockCluster(topic: "stats")
        var c = KafkaDriver.Configuration()
        c.brokerList = mock.bootstrap
        c.messageTimeout = .seconds(2)
        let driver = try KafkaDriver(configuration: c)
        defer { driver.close() }
        try driver.write([storedSample("/a", cpuTotal: 1)])
        mock.setDown(true)
        #expect(throws: KafkaDriver.Failure.self) { try driver.write([storedSample("/b", cpuTotal: 2)]) }
        mock.setDown(false)
        let retried = eventually(20) { (try? driver.write([storedSample("/b", cpuTotal: 2)])) != nil ? true : nil }
        #expect(retried == true)
        // Read until both came: the timed-out /b may have been delivered too, and with three
        // partitions and no key the messages need not come back in the order they were written.
        let names = try mock.consume("stats", until: { got in
            let names = Set(got.compactMap { $0["container_Name"] as? String })
            return names.contains("/a") && names.contains("/b")
        }).compactMap { $0.json["container_Name"] as? String }
        #expect(names.contains("/a") && names.contains("/b"), "\(names)")
    }

    @Test func kafkaBadConfigurationIsAClearError() throws {
        var c = KafkaDriver.Configuration()
        c.sslCert = "/nonexistent/cert.pem"
        #expect(throws: KafkaDriver.Invalid.self) { try KafkaDriver(configuration: c) } // only one of three
        c.sslKey = "/nonexistent/key.pem"
        c.sslCA = "/nonexistent/ca.pem"
        do {
            _ = try KafkaDriver(configuration: c)
            Issue.record("missing TLS files accepted")
        } catch {
            #expect(error.description.contains("/nonexistent/cert.pem"))
        }
    }

    // MARK: elasticsearch

    /// A loopback server that answers as Elasticsearch's bulk API documents (`POST /_bulk`,
    /// `application/x-ndjson`, `{"took","errors","items":[{"index":{…,"status":201}}]}`) and checks
    /// every request; a malformed one gets 400 as Elasticsearch gives.
    static func bulkServer(itemStatus: @escaping @Sendable () -> Int = { 201 }) throws -> LoopbackServer {
        try LoopbackServer { request in
            guard request.method == "POST", request.path == "/_bulk",
                  request.headers["content-type"] == "application/x-ndjson" else {
                return (400, #"{"error":{"type":"illegal_argument_exception","reason":"bad request"},"status":400}"#)
            }
            let lines = String(decoding: request.body, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            guard lines.count % 2 == 1, lines.last == "" else {
                return (400, #"{"error":{"type":"illegal_argument_exception","reason":"The bulk request must be terminated by a newline [\n]"},"status":400}"#)
            }
            var items: [String] = []
            for i in stride(from: 0, to: lines.count - 1, by: 2) {
                guard let action = try? JSONSerialization.jsonObject(with: Data(lines[i].utf8)) as? [String: Any],
                      let index = action["index"] as? [String: Any], let name = index["_index"] as? String,
                      (try? JSONSerialization.jsonObject(with: Data(lines[i + 1].utf8))) is [String: Any] else {
                    return (400, #"{"error":{"type":"x_content_parse_exception","reason":"malformed action/metadata line"},"status":400}"#)
                }
                let status = itemStatus()
                let error = status >= 300 ? #","error":{"type":"es_rejected_execution_exception","reason":"queue full"}"# : ""
                items.append(#"{"index":{"_index":"\#(name)","_id":"id\#(i)","_version":1,"result":"created","status":\#(status)\#(error)}}"#)
            }
            let errors = items.contains { !$0.contains("\"status\":201") }
            return (200, #"{"took":3,"errors":\#(errors),"items":[\#(items.joined(separator: ","))]}"#)
        }
    }

    @Test func elasticsearchGetsCAdvisorsDocumentsThroughTheBulkAPI() throws {
        let server = try Self.bulkServer()
        var c = ElasticsearchDriver.Configuration()
        c.host = "http://127.0.0.1:\(server.port)"
        let driver = try ElasticsearchDriver(configuration: c)
        try driver.write([storedSample("/docker/abc", cpuTotal: 5_000_000_000, aliases: ["web", "abc"], runtime: "docker"),
                          storedSample("/", cpuTotal: 9)])
        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1) // one request per batch
        let lines = String(decoding: request.body, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0] == #"{"index":{"_index":"cadvisor","_type":"stats"}}"#)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect((doc["timestamp"] as? NSNumber)?.int64Value == 1_583_064_000_123_456) // µs, as cAdvisor
        #expect(doc["machine_name"] as? String == StorageOptions.hostname())
        #expect(doc["container_Name"] as? String == "web")
        let usage = try #require(((doc["container_stats"] as? [String: Any])?["cpu"] as? [String: Any])?["usage"] as? [String: Any])
        #expect((usage["total"] as? NSNumber)?.uint64Value == 5_000_000_000)
        #expect(lines[1].hasPrefix(#"{"timestamp":1583064000123456,"machine_name":"#))
        // Elasticsearch 8: no types.
        c.type = ""
        c.index = "nodes"
        try ElasticsearchDriver(configuration: c).write([storedSample("/", cpuTotal: 1)])
        let second = String(decoding: try #require(server.requests.last).body, as: UTF8.self)
        #expect(second.hasPrefix(#"{"index":{"_index":"nodes"}}"# + "\n"))
    }

    @Test func elasticsearchRetriesOverloadAndRefusesNothingSilently() throws {
        final class Next: @unchecked Sendable { var status = 429 }
        let next = Next()
        let server = try Self.bulkServer { next.status }
        var c = ElasticsearchDriver.Configuration()
        c.host = "http://127.0.0.1:\(server.port)/"
        let driver = try ElasticsearchDriver(configuration: c)
        #expect(throws: ElasticsearchDriver.Failure.self) { try driver.write([storedSample("/", cpuTotal: 1)]) }
        next.status = 400 // a mapping error would never pass: logged, not retried
        try driver.write([storedSample("/", cpuTotal: 1)])
        #expect(server.requests.count == 2)
        // Down: a connection error is thrown (the backend retries it).
        var down = ElasticsearchDriver.Configuration()
        down.host = "http://127.0.0.1:1"
        #expect(throws: (any Error).self) { try ElasticsearchDriver(configuration: down).write([storedSample("/", cpuTotal: 1)]) }
        var bad = ElasticsearchDriver.Configuration()
        bad.host = "localhost:9200"
        #expect(throws: PushURL.Invalid.self) { try ElasticsearchDriver(configuration: bad) }
    }

    // MARK: end to end, through the agent's flags

    /// The agent with `-storage_driver=kafka` and 1 s housekeeping, three live cgroups (one busy),
    /// librdkafka's mock cluster as the brokers: the busy cgroup's messages come with its CPU
    /// counter rising; the brokers down for 10 s and up again: the samples of the outage arrive after.
    @Test func kafkaThroughTheAgentRidesOutABrokerOutage() throws {
        let layout = try #require(HostCgroups.layout)
        let cgroups = try (0..<3).map { _ in try LiveCgroup(layout: layout) }
        defer { cgroups.forEach { $0.destroy() } }
        try cgroups[0].run("while :; do :; done")
        try cgroups[1].run("exec sleep 300")
        try cgroups[2].run("exec sleep 300")
        let mock = try KafkaMockCluster(topic: "stats")
        let agent = try RunningAgent(["-housekeeping_interval=1s", "-storage_driver=kafka",
                                      "-storage_driver_kafka_broker_list=\(mock.bootstrap)"])
        defer { agent.child.stop() }
        sleep(4)
        mock.setDown(true)
        let down = Clocks.wallNanos()
        sleep(10)
        let up = Clocks.wallNanos()
        mock.setDown(false)
        #expect(agent.child.process.isRunning)
        /// The container names seen and the busy cgroup's (sample time, CPU total) pairs, sorted.
        func read(_ messages: [[String: Any]]) -> (names: Set<String>, busy: [(Int64, UInt64)]) {
            var busy: [(Int64, UInt64)] = []
            var names = Set<String>()
            for json in messages {
                guard let name = json["container_Name"] as? String else { continue }
                names.insert(name)
                guard name == cgroups[0].name, let stats = json["container_stats"] as? [String: Any],
                      let t = (stats["timestamp"] as? String).flatMap(GoTime.parseRFC3339),
                      let total = (((stats["cpu"] as? [String: Any])?["usage"] as? [String: Any])?["total"] as? NSNumber)?.uint64Value else { continue }
                busy.append((t, total))
            }
            return (names, busy.sorted { $0.0 < $1.0 })
        }
        func inOutage(_ busy: [(Int64, UInt64)]) -> Int {
            busy.filter { $0.0 > down + 1_000_000_000 && $0.0 < up - 1_000_000_000 }.count
        }
        // Read until the outage's samples came (the sender retries with a backoff of up to 8 s; on a
        // loaded machine delivery takes longer than a fixed wait).
        let (names, busy) = read(try mock.consume("stats", seconds: 45, until: { got in
            let (names, busy) = read(got)
            return cgroups.allSatisfy { names.contains($0.name) } && inOutage(busy) >= 6 && busy.last.map { $0.0 > up } == true
        }).map(\.json))
        #expect(cgroups.allSatisfy { names.contains($0.name) }, "\(names.count) containers")
        #expect((busy.last?.1 ?? 0) > (busy.first?.1 ?? 0), "busy CPU rising")
        let inOutage = inOutage(busy)
        #expect(inOutage >= 6, "samples of the 10 s outage delivered after it: \(inOutage)")
        let metrics = try agent.get("/metrics").body
        #expect(metrics.contains("node_metrics_storage_send_errors_total{driver=\"kafka\"}"))
        // librdkafka's threads (sockets, poll, its wake-up pipes) run inside the agent's sandbox.
        let refusals = agent.stopAndCollectSandboxRefusals()
        #expect(refusals.isEmpty, "\(refusals)")
    }

    /// The agent with `-storage_driver=elasticsearch`: the bulk server gets the live cgroups' documents.
    @Test func elasticsearchThroughTheAgent() throws {
        let layout = try #require(HostCgroups.layout)
        let cg = try LiveCgroup(layout: layout)
        defer { cg.destroy() }
        try cg.run("while :; do :; done")
        let server = try Self.bulkServer()
        let agent = try RunningAgent(["-housekeeping_interval=1s", "-storage_driver=elasticsearch",
                                      "-storage_driver_es_host=http://127.0.0.1:\(server.port)", "-storage_driver_es_index=nodes"])
        defer { agent.child.stop() }
        let totals = eventually(30) { () -> [UInt64]? in
            var out: [UInt64] = []
            for r in server.requests {
                for line in String(decoding: r.body, as: UTF8.self).split(separator: "\n") where line.contains("\"container_Name\":\"\(cg.name)\"") {
                    guard let doc = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                          let total = ((((doc["container_stats"] as? [String: Any])?["cpu"] as? [String: Any])?["usage"] as? [String: Any])?["total"] as? NSNumber)?.uint64Value else { continue }
                    out.append(total)
                }
            }
            return out.count >= 3 ? out : nil
        }
        let t = try #require(totals, "documents of \(cg.name)")
        #expect(t.last ?? 0 > t.first ?? 0)
        #expect(server.requests.allSatisfy { String(decoding: $0.body.prefix(80), as: UTF8.self).hasPrefix(#"{"index":{"_index":"nodes","_type":"stats"}}"#) })
        let refusals = agent.stopAndCollectSandboxRefusals()
        #expect(refusals.isEmpty, "\(refusals)")
    }
}
