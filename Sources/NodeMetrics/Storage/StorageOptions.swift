#if canImport(Glibc)
import Glibc
#endif

/// cAdvisor's storage flags as parsed at start-up (`-storage_driver_*`, `-bq_*`), with cAdvisor's
/// defaults: what every driver factory is built from.
public struct StorageOptions: Sendable {
    public var user = "root"
    public var password = "root"
    /// `host:port` (influxdb HTTP, redis TCP, statsd UDP; stdout prints it).
    public var host = "localhost:8086"
    public var db = "cadvisor"
    public var table = "stats"
    /// influxdb over https.
    public var secure = false
    /// `-storage_driver_ca_file`: the PEM CA https backends (influxdb, elasticsearch) are checked against (nil: the system's).
    public var caFile: String?
    public var influxRetentionPolicy = ""
    public var esHost = "http://localhost:9200"
    public var esIndex = "cadvisor"
    public var esType = "stats"
    public var esEnableSniffer = false
    public var kafkaBrokerList = "localhost:9092"
    public var kafkaTopic = "stats"
    public var kafkaSSLCert = ""
    public var kafkaSSLKey = ""
    public var kafkaSSLCA = ""
    public var kafkaSSLVerify = true
    public var bqID = ""
    public var bqSecret = "notasecret"
    public var bqProjectID = ""
    public var bqAccount = ""
    public var bqCredentialsFile = ""
    /// `-storage_driver_statsd_packet_size` (ours): statsd lines are packed into datagrams of at most
    /// this many bytes; 0 sends a datagram per line, as cAdvisor.
    public var statsdPacketSize = StorageOptions.defaultStatsdPacketSize
    /// 1432 bytes: statsd's advice for multi-metric packets on a 1500-byte MTU (no IP fragmentation).
    public static let defaultStatsdPacketSize = 1432
    /// The `machine` every driver sends (cAdvisor: `os.Hostname()`).
    public var machineName = StorageOptions.hostname()
    /// How each driver's buffer and sender behave (`-storage_driver_buffer_duration` is its `maxAge`).
    public var buffer = StorageBufferPolicy()

    public init() {}

    /// This host's name, as cAdvisor's `os.Hostname()`.
    public static func hostname() -> String {
        var buf = [CChar](repeating: 0, count: 256)
        guard gethostname(&buf, buf.count - 1) == 0 else { return "" }
        return String(nulTerminated: buf)
    }

    /// A password file's first line (trailing newlines dropped); a missing or unreadable file throws.
    public static func readPasswordFile(_ path: String) throws(StorageConfigurationError) -> String {
        guard var text = HostFiles.read(path) else { throw StorageConfigurationError("cannot read \(path)") }
        while text.hasSuffix("\n") || text.hasSuffix("\r") { text.removeLast() }
        return text
    }

    /// `-storage_driver_host` as a TCP/UDP address: `host:port`, an IPv6 host in brackets.
    public func hostAndPort() throws(StorageConfigurationError) -> (host: String, port: Int) {
        do {
            guard case .tcp(let h, let p, _) = try HTTPEndpoint.parse("tcp://" + host) else {
                throw StorageConfigurationError("-storage_driver_host=\(host): not host:port")
            }
            return (h, p)
        } catch let e as StorageConfigurationError {
            throw e
        } catch {
            throw StorageConfigurationError("-storage_driver_host=\(host): not host:port with a port of 1-65535")
        }
    }
}

/// A bad `-storage_driver` list or a driver that cannot be built: a start-up error naming it.
public struct StorageConfigurationError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Name → factory of every driver `-storage_driver` may name. A factory checks its flags and may
/// connect; what it throws stops start-up ("Failed to initialize storage driver <name>: …").
public enum StorageDriverRegistry {
    public typealias Factory = @Sendable (_ name: String, _ options: StorageOptions) throws -> any StorageDriver

    public static let factories: [String: Factory] = [
        "stdout": { name, options in StdoutDriver(name: name, options: options) },
        "statsd": { name, options in try StatsdDriver(name: name, options: options) },
        "influxdb": { name, options in try InfluxDBDriver(name: name, options: options) },
        "redis": { name, options in try RedisDriver(name: name, options: options) },
        "kafka": { name, options in try KafkaDriver(name: name, options: options) },
        "elasticsearch": { name, options in try ElasticsearchDriver(name: name, options: options) },
        "bigquery": { name, options in try BigQueryDriver(name: name, options: options) },
    ]

    /// The items of a `-storage_driver` value as cAdvisor splits it: on `,`, not trimmed, empty items
    /// skipped, a repeated name kept (a second instance).
    public static func names(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: true).map(String.init)
    }

    /// Builds every driver of the list, in order. An unknown name or a factory error throws.
    public static func make(_ list: String, options: StorageOptions) throws(StorageConfigurationError) -> [any StorageDriver] {
        var out: [any StorageDriver] = []
        for name in names(list) {
            guard let factory = factories[name] else {
                throw StorageConfigurationError("Failed to initialize storage driver: unknown backend storage driver \"\(name)\" (known: \(factories.keys.sorted().joined(separator: ", ")))")
            }
            do {
                out.append(try factory(name, options))
            } catch {
                for d in out { d.close() }
                throw StorageConfigurationError("Failed to initialize storage driver \(name): \(error)")
            }
        }
        return out
    }
}

/// A write a backend did not take (the sender retries it with backoff).
public struct StorageWriteError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
