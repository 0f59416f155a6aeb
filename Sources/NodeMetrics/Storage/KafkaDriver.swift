import CCgroupFast

/// `-storage_driver=kafka`: one JSON message per sample (`message`, cAdvisor's layout) to `-storage_driver_kafka_topic` on the `-storage_driver_kafka_broker_list` brokers,
/// through librdkafka (acks=all, no key: a random partition, as cAdvisor's producer).
///
/// Differences from cAdvisor, decided: `-storage_driver_kafka_ssl_verify=true` (the default)
/// verifies the brokers' certificates and `false` skips it — cAdvisor sets Go's
/// `InsecureSkipVerify` to the flag's value, so its default skips verification; a setup that relied
/// on that (a self-signed broker certificate) must now pass `=false`. A write returns only when the
/// brokers acknowledged every message of the batch; a failed batch is retried whole by the backend,
/// so a consumer can see a message twice (at-least-once), never an undrained error channel stalling
/// the sampler. Start-up does not wait for the brokers.
public final class KafkaDriver: StorageDriver, @unchecked Sendable {
    public let name: String
    public let configuration: Configuration
    /// Owned; used from the backend's sender thread only (the `StorageDriver` contract).
    private let producer: OpaquePointer
    private let machine: String
    private var closed = false

    public var destination: String { "kafka://\(configuration.brokerList) topic \(configuration.topic)" }

    /// The `-storage_driver_kafka_*` flags.
    public struct Configuration: Sendable {
        public var brokerList = "localhost:9092"
        public var topic = "stats"
        public var sslCert = ""
        public var sslKey = ""
        public var sslCA = ""
        public var sslVerify = true
        /// How long a message may wait for the brokers before the batch fails.
        public var messageTimeout: Duration = .seconds(10)
        public init() {}
    }

    /// A configuration librdkafka refuses, or TLS files given only in part.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// From the `-storage_driver_kafka_*` flags (the registry's factory).
    public convenience init(name: String = "kafka", options: StorageOptions) throws(Invalid) {
        var c = Configuration()
        c.brokerList = options.kafkaBrokerList
        c.topic = options.kafkaTopic
        c.sslCert = options.kafkaSSLCert
        c.sslKey = options.kafkaSSLKey
        c.sslCA = options.kafkaSSLCA
        c.sslVerify = options.kafkaSSLVerify
        try self.init(name: name, configuration: c, machine: options.machineName)
    }

    public init(name: String = "kafka", configuration: Configuration, machine: String = StorageOptions.hostname()) throws(Invalid) {
        let c = configuration
        let tlsFiles = [c.sslCert, c.sslKey, c.sslCA].filter { !$0.isEmpty }.count
        guard tlsFiles == 0 || tlsFiles == 3 else {
            throw Invalid(description: "kafka: TLS needs all of -storage_driver_kafka_ssl_cert, _ssl_key and _ssl_ca")
        }
        for file in [c.sslCert, c.sslKey, c.sslCA] where !file.isEmpty && HostFiles.read(file) == nil {
            throw Invalid(description: "kafka: \(file): missing or unreadable")
        }
        guard !c.brokerList.isEmpty, !c.topic.isEmpty else { throw Invalid(description: "kafka: empty broker list or topic") }
        var err = [CChar](repeating: 0, count: 512)
        let timeoutMillis = Int32(clamping: c.messageTimeout.nanoseconds / 1_000_000)
        guard let p = cgf_kafka_new(c.brokerList, c.topic, c.sslCert, c.sslKey, c.sslCA, c.sslVerify ? 1 : 0,
                                    timeoutMillis, &err, err.count) else {
            throw Invalid(description: "kafka: \(String(nulTerminated: err))")
        }
        producer = p
        self.name = name
        self.configuration = c
        self.machine = machine
    }

    /// `{"timestamp":<send time, RFC 3339 ns>,"machine_name":…,"container_Name":…,"container_Id":…
    /// (when the runtime knows it),"container_stats":{v1 ContainerStats}}`, in cAdvisor's key order.
    public static func message(_ s: StoredSample, sendTimeNanos: Int64, machine: String) -> [UInt8] {
        var out: [UInt8] = []
        messages([s], sendTimeNanos: sendTimeNanos, machine: machine) { out = Array($0) }
        return out
    }

    /// `message` with the send time and machine name already as JSON strings (once per batch).
    private static func writeMessage(_ s: StoredSample, timeJSON: [UInt8], machineJSON: [UInt8], to w: inout JSONWriter) {
        w.beginObject()
        w.key(literal: "timestamp")
        w.value(json: timeJSON)
        w.key(literal: "machine_name")
        w.value(json: machineJSON)
        w.field(literal: "container_Name", s.referenceName)
        // ContainerReference.Id as /api/v1.3 writes it (CAdvisorV1Info.reference); omitted when empty.
        if !s.metadata.runtime.isEmpty, let id = s.metadata.aliases.last, !id.isEmpty { w.field(literal: "container_Id", id) }
        w.key(literal: "container_stats")
        CAdvisorV1Stats.write(s.sample, to: &w)
        w.endObject()
    }

    /// Each sample's message in turn, all in one buffer (the bytes are valid during `body` only).
    public static func messages(_ batch: [StoredSample], sendTimeNanos: Int64, machine: String,
                                _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var time = JSONWriter(capacity: 32)
        time.value(rfc3339Nano: sendTimeNanos)
        let timeJSON = time.bytes, machineJSON = JSONWriter.escaped(machine)
        var w = JSONWriter(capacity: 8192)
        for s in batch {
            w.reset()
            writeMessage(s, timeJSON: timeJSON, machineJSON: machineJSON, to: &w)
            try w.bytes.withUnsafeBytes { try body($0) }
        }
    }

    /// The error of a batch the brokers did not take.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public func write(_ batch: [StoredSample]) throws {
        guard !closed else { throw Failure(description: "kafka: closed") }
        var err = [CChar](repeating: 0, count: 512)
        try Self.messages(batch, sendTimeNanos: Clocks.wallNanos(), machine: machine) { raw in
            guard let base = raw.baseAddress else { return } // an empty message: nothing to send
            if cgf_kafka_produce(producer, base, raw.count, &err, err.count) != 0 {
                throw Failure(description: "kafka: \(String(nulTerminated: err))")
            }
        }
        let waitMillis = Int32(clamping: configuration.messageTimeout.nanoseconds / 1_000_000 + 5000)
        let failed = cgf_kafka_flush(producer, waitMillis, &err, err.count)
        if failed != 0 {
            throw Failure(description: failed < 0 ? "kafka: \(String(nulTerminated: err))" : "kafka: \(failed) of \(batch.count) messages failed: \(String(nulTerminated: err))")
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        cgf_kafka_destroy(producer)
    }

    deinit { close() }
}
