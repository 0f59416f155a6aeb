import ArgumentParser
import Logging
import NodeMetrics

/// Our extensions to cAdvisor's storage flags.
struct StorageExtensionFlags: ParsableArguments {
    @Option(name: flag("storage_driver_password_file"),
            help: "Read the storage driver password from this file (one line; a trailing newline is dropped) instead of -storage_driver_password, so it stays out of the command line (a Kubernetes Secret mounted as a file).")
    var passwordFile = ""
    @Option(name: flag("storage_driver_buffer_samples"),
            help: "Per storage driver, at most this many samples are buffered while the backend is slow or down (the oldest are dropped first); -storage_driver_buffer_duration bounds them by age.")
    var bufferSamples = 20_000
    @Option(name: flag("storage_driver_ca_file"),
            help: "PEM CA that the storage backend's https certificate is checked against: influxdb with -storage_driver_secure, an https -storage_driver_es_host (default: the system's).")
    var caFile = ""
    @Option(name: flag("storage_driver_statsd_packet_size"),
            help: "The statsd driver packs its lines, newline-separated, into UDP datagrams of at most this many bytes (statsd's multi-metric packets: 1432 fits a 1500-byte MTU); 0 sends a datagram per line, as cAdvisor does.")
    var statsdPacketSize = StorageOptions.defaultStatsdPacketSize
}

extension Serve {
    /// The `-storage_driver` items, checked against the registry (no driver is built here).
    func checkStorageDriverNames() throws {
        for name in StorageDriverRegistry.names(storageDriver ?? "") where StorageDriverRegistry.factories[name] == nil {
            throw ValidationError("-storage_driver: unknown backend storage driver \"\(name)\" (known: \(StorageDriverRegistry.factories.keys.sorted().joined(separator: ", ")); items are not trimmed)")
        }
        guard storageExtensions.bufferSamples > 0 else { throw ValidationError("-storage_driver_buffer_samples must be positive") }
        guard (0...65_507).contains(storageExtensions.statsdPacketSize) else {
            throw ValidationError("-storage_driver_statsd_packet_size must be 0 (a datagram per line) to 65507 (the largest UDP payload), not \(storageExtensions.statsdPacketSize)")
        }
        _ = try storageOptions()
    }

    /// cAdvisor's storage flags (and ours) as the drivers take them.
    func storageOptions() throws -> StorageOptions {
        var o = StorageOptions()
        o.user = compat.storageDriverUser
        o.password = compat.storageDriverPassword
        if !storageExtensions.passwordFile.isEmpty {
            do {
                o.password = try StorageOptions.readPasswordFile(storageExtensions.passwordFile)
            } catch {
                throw ValidationError("-storage_driver_password_file: \(error.description)")
            }
        }
        o.host = compat.storageDriverHost
        o.db = compat.storageDriverDB
        o.table = compat.storageDriverTable
        o.secure = compat.storageDriverSecure.value
        o.caFile = storageExtensions.caFile.isEmpty ? nil : storageExtensions.caFile
        o.influxRetentionPolicy = compat.influxRetentionPolicy
        o.esHost = compat.esHost
        o.esIndex = compat.esIndex
        o.esType = compat.esType
        o.esEnableSniffer = compat.esEnableSniffer.value
        o.kafkaBrokerList = compat.kafkaBrokerList
        o.kafkaTopic = compat.kafkaTopic
        o.kafkaSSLCert = compat.kafkaSSLCert
        o.kafkaSSLKey = compat.kafkaSSLKey
        o.kafkaSSLCA = compat.kafkaSSLCA
        o.kafkaSSLVerify = compat.kafkaSSLVerify.value
        o.bqID = compat.bqID
        o.bqSecret = compat.bqSecret
        o.bqProjectID = compat.bqProjectID
        o.bqAccount = compat.bqAccount
        o.bqCredentialsFile = compat.bqCredentialsFile
        do {
            o.buffer.maxAge = try GoDuration.parse(compat.storageDriverBufferDuration)
        } catch {
            throw ValidationError("-storage_driver_buffer_duration: \(error.description)")
        }
        guard o.buffer.maxAge >= .zero else { throw ValidationError("-storage_driver_buffer_duration must not be negative") }
        o.buffer.maxSamples = storageExtensions.bufferSamples
        o.statsdPacketSize = storageExtensions.statsdPacketSize
        return o
    }

    /// Builds the drivers of `-storage_driver` (nil when none); a driver that cannot be built stops
    /// start-up naming it.
    func storageBackends(logger: Logger) throws -> StorageBackends? {
        let list = storageDriver ?? ""
        guard !StorageDriverRegistry.names(list).isEmpty else { return nil }
        let options = try storageOptions()
        let drivers: [any StorageDriver]
        do {
            drivers = try StorageDriverRegistry.make(list, options: options)
        } catch {
            throw ValidationError(error.description)
        }
        for d in drivers { logger.info("storage driver", metadata: ["driver": "\(d.name)", "destination": "\(d.destination)"]) }
        return StorageBackends(drivers: drivers, policy: options.buffer, logger: logger)
    }
}
