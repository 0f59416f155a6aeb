import FoundationEssentials
import Logging

/// `-storage_driver=elasticsearch`: cAdvisor's document (`RedisDriver.document`, the redis driver's:
/// timestamp in µs, machine_name, container_Name, container_stats) into `-storage_driver_es_index` with type
/// `-storage_driver_es_type`, a batch per request through the bulk API (`POST /_bulk`, NDJSON: an
/// `index` action line and the document per sample), on `-storage_driver_es_host`.
///
/// Differences from cAdvisor, decided: the bulk API instead of one synchronous `POST /<index>/<type>/`
/// per sample (the same documents, ids assigned by Elasticsearch); the type goes in the action's
/// `_type` (Elasticsearch 6/7) and is left out when `-storage_driver_es_type` is empty — set it so
/// for Elasticsearch 8, which removed types; a refused batch is an error the backend retries
/// (cAdvisor prints it and drops it); `-storage_driver_es_enable_sniffer` is accepted and ignored
/// (requests always go to the given host; a load balancer in front does what sniffing did). No
/// start-up health check: the backend retries while the cluster is down.
public final class ElasticsearchDriver: StorageDriver, @unchecked Sendable {
    // @unchecked: `body` is used by the sender thread only (write).
    public let name: String
    public let configuration: Configuration
    private let url: PushURL
    private let client: UnixHTTPClient
    private let machine: String
    private let logger = Logger(label: "node-metrics.storage.elasticsearch")

    /// The `-storage_driver_es_*` flags.
    public struct Configuration: Sendable {
        public var host = "http://localhost:9200"
        public var index = "cadvisor"
        public var type = "stats"
        public var enableSniffer = false
        /// `-storage_driver_ca_file`: the PEM CA an https host's certificate is checked against (nil: the system's).
        public var caFile: String?
        public init() {}
    }

    /// A batch Elasticsearch did not take.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `-storage_driver_es_host` is checked now (an http(s) URL), so a bad one stops start-up.
    public var destination: String { "\(configuration.host) index \(configuration.index)" }

    /// From the `-storage_driver_es_*` flags (the registry's factory).
    public convenience init(name: String = "elasticsearch", options: StorageOptions) throws(PushURL.Invalid) {
        var c = Configuration()
        c.host = options.esHost
        c.index = options.esIndex
        c.type = options.esType
        c.enableSniffer = options.esEnableSniffer
        c.caFile = options.caFile
        try self.init(name: name, configuration: c, machine: options.machineName)
    }

    public init(name: String = "elasticsearch", configuration: Configuration, timeout: Duration = .seconds(10),
                machine: String = StorageOptions.hostname()) throws(PushURL.Invalid) {
        self.name = name
        self.configuration = configuration
        self.machine = machine
        guard !configuration.index.isEmpty else { throw PushURL.Invalid(description: "-storage_driver_es_index is empty") }
        var url = try PushURL(configuration.host, caFile: configuration.caFile)
        if !url.path.hasSuffix("/") { url.path += "/" }
        self.url = url
        client = UnixHTTPClient(endpoint: url.endpoint, timeout: timeout)
    }

    /// The buffer a batch's body is written in, kept from one batch to the next (sender thread only)
    /// unless it grew past `RedisDriver.keptCapacity` (a batch after an outage).
    private var body = JSONWriter(capacity: 0)

    /// The NDJSON body of one bulk request (in the kept buffer: sender thread only).
    public func bulkBody(_ batch: [StoredSample]) -> [UInt8] {
        var action = JSONWriter(capacity: 96)
        action.beginObject()
        action.object(literal: "index") { w in
            w.field(literal: "_index", configuration.index)
            if !configuration.type.isEmpty { w.field(literal: "_type", configuration.type) }
        }
        action.endObject()
        action.raw("\n")
        let machineJSON = JSONWriter.escaped(machine)
        body.reset(keepingAtMost: RedisDriver.keptCapacity)
        for s in batch {
            body.raw(action.bytes)
            RedisDriver.writeDocument(s, machineJSON: machineJSON, to: &body)
            body.raw("\n")
        }
        return body.bytes
    }

    private struct BulkResponse: Decodable {
        var errors: Bool
        var items: [[String: Item]]?
        struct Item: Decodable {
            var status: Int
            var error: ErrorInfo?
        }
        struct ErrorInfo: Decodable {
            var type: String?
            var reason: String?
        }
    }

    public func write(_ batch: [StoredSample]) throws {
        guard !batch.isEmpty else { return }
        let r = try client.request("POST", url.path + "_bulk", headers: [url.hostHeader, ("Content-Type", "application/x-ndjson")],
                                   body: bulkBody(batch), maxBody: 64 << 20)
        guard (200..<300).contains(r.status) else {
            throw Failure(description: "elasticsearch: HTTP \(r.status): \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        guard let answer = try? JSONDecoder().decode(BulkResponse.self, from: Data(r.body)) else {
            throw Failure(description: "elasticsearch: not a bulk response: \(String(decoding: r.body.prefix(300), as: UTF8.self))")
        }
        guard answer.errors else { return }
        let failed = (answer.items ?? []).compactMap { $0.values.first }.filter { !(200..<300).contains($0.status) }
        let first = failed.first.map { "\($0.status) \($0.error?.type ?? ""): \($0.error?.reason ?? "")" } ?? "errors"
        let message = "elasticsearch: \(failed.count) of \(batch.count) documents refused (first: \(first))"
        // Overload (429) or a shard failure (5xx): the whole batch is sent again (Elasticsearch
        // assigns ids, so the documents it took come twice). Other refusals would never pass.
        if failed.contains(where: { $0.status == 429 || $0.status >= 500 }) { throw Failure(description: message) }
        logger.error("\(message); not retried")
    }

    public func close() {}
}
