import ArgumentParser
import NodeMetrics

/// cAdvisor's (v0.36 and current) and klog's flags that the agent accepts so every cAdvisor command
/// line starts, each with cAdvisor's default. Those whose feature is not built here produce one
/// start-up warning naming the flag when set to anything but the default (`notBuiltInUse`); the
/// deprecated per-runtime environment whitelists add to `-env_metadata_whitelist`; the Docker TLS
/// flags are used with `-docker=tcp://…`.
struct CAdvisorCompatFlags: ParsableArguments {
    /// Go-style booleans among these (a bare `-name` means true).
    static let booleans: Set<String> = [
        "docker-tls", "log_cadvisor_usage", "storage_driver_secure", "storage_driver_es_enable_sniffer",
        "storage_driver_kafka_ssl_verify", "alsologtostderr", "skip_headers", "skip_log_headers", "one_output",
        "add_dir_header",
    ]

    // MARK: Docker over TCP
    @Option(name: flag("docker-tls"), help: "Use TLS to connect to Docker (with -docker=tcp://host:port).")
    var dockerTLS = GoBool(false)
    @Option(name: flag("docker-tls-cert"), help: "Client certificate for TLS connections to Docker.")
    var dockerTLSCert = "cert.pem"
    @Option(name: flag("docker-tls-key"), help: "Private key for TLS connections to Docker.")
    var dockerTLSKey = "key.pem"
    @Option(name: flag("docker-tls-ca"), help: "Trusted CA for TLS connections to Docker.")
    var dockerTLSCA = "ca.pem"

    // MARK: runtimes
    @Option(name: flag("docker_root"), help: "DEPRECATED in cAdvisor: Docker's root directory (read from Docker's /info here).")
    var dockerRoot = "/var/lib/docker"
    @Option(name: flag("crio_client_timeout"), help: "CRI-O client timeout (not built: a 5 s timeout is used).")
    var crioClientTimeout = "0s"
    @Option(name: flag("docker_env_metadata_whitelist"), help: "DEPRECATED: added to -env_metadata_whitelist.")
    var dockerEnvMetadataWhitelist = ""
    @Option(name: flag("containerd_env_metadata_whitelist"), help: "DEPRECATED: added to -env_metadata_whitelist.")
    var containerdEnvMetadataWhitelist = ""
    @Option(name: flag("container_hints"), help: "Container hints file for raw containers (not built).")
    var containerHints = "/etc/cadvisor/container_hints.json"
    @Option(name: flag("mesos_agent"), help: "Mesos agent address (not built).")
    var mesosAgent = "127.0.0.1:5051"
    @Option(name: flag("mesos_agent_timeout"), help: "Mesos agent timeout (not built).")
    var mesosAgentTimeout = "10s"
    @Option(name: flag("machine_id_file"), help: "Machine id files (not built: the root's /etc/machine-id, /var/lib/dbus/machine-id and libsystemd are read).")
    var machineIDFile = "/etc/machine-id,/var/lib/dbus/machine-id"
    @Option(name: flag("boot_id_file"), help: "Boot id file (not built: the root's /proc/sys/kernel/random/boot_id is read).")
    var bootIDFile = "/proc/sys/kernel/random/boot_id"

    // MARK: housekeeping and metrics
    @Option(name: flag("initial_splay_factor"), help: "Jitter of the first housekeeping (not built).")
    var initialSplayFactor = "1.0"
    @Option(name: flag("jitter_factor"), help: "Jitter of housekeepings (not built).")
    var jitterFactor = "1.0"
    @Option(name: flag("application_metrics_count_limit"), help: "Application metrics per container (not built).")
    var applicationMetricsCountLimit = 100
    @Option(name: flag("log_cadvisor_usage"), help: "A no-op in cAdvisor too.")
    var logCAdvisorUsage = GoBool(false)
    @Option(name: flag("collector_cert"), help: "Client certificate for application metric collectors (not built).")
    var collectorCert = ""
    @Option(name: flag("collector_key"), help: "Client key for application metric collectors (not built).")
    var collectorKey = ""

    // MARK: storage drivers (Storage/ builds the drivers from these)
    @Option(name: flag("storage_driver_user")) var storageDriverUser = "root"
    @Option(name: flag("storage_driver_password")) var storageDriverPassword = "root"
    @Option(name: flag("storage_driver_host")) var storageDriverHost = "localhost:8086"
    @Option(name: flag("storage_driver_db")) var storageDriverDB = "cadvisor"
    @Option(name: flag("storage_driver_table")) var storageDriverTable = "stats"
    @Option(name: flag("storage_driver_secure")) var storageDriverSecure = GoBool(false)
    @Option(name: flag("storage_driver_buffer_duration")) var storageDriverBufferDuration = "60s"
    @Option(name: flag("storage_driver_influxdb_retention_policy")) var influxRetentionPolicy = ""
    @Option(name: flag("storage_driver_es_host")) var esHost = "http://localhost:9200"
    @Option(name: flag("storage_driver_es_index")) var esIndex = "cadvisor"
    @Option(name: flag("storage_driver_es_type")) var esType = "stats"
    @Option(name: flag("storage_driver_es_enable_sniffer")) var esEnableSniffer = GoBool(false)
    @Option(name: flag("storage_driver_kafka_broker_list")) var kafkaBrokerList = "localhost:9092"
    @Option(name: flag("storage_driver_kafka_topic")) var kafkaTopic = "stats"
    @Option(name: flag("storage_driver_kafka_ssl_cert")) var kafkaSSLCert = ""
    @Option(name: flag("storage_driver_kafka_ssl_key")) var kafkaSSLKey = ""
    @Option(name: flag("storage_driver_kafka_ssl_ca")) var kafkaSSLCA = ""
    @Option(name: flag("storage_driver_kafka_ssl_verify")) var kafkaSSLVerify = GoBool(true)
    @Option(name: flag("bq_id")) var bqID = ""
    @Option(name: flag("bq_secret")) var bqSecret = "notasecret"
    @Option(name: flag("bq_project_id")) var bqProjectID = ""
    @Option(name: flag("bq_account")) var bqAccount = ""
    @Option(name: flag("bq_credentials_file")) var bqCredentialsFile = ""

    // MARK: klog (logs always go to standard error, in logfmt or to the journal)
    @Option(name: flag("alsologtostderr"), help: "Log to standard error as well (always on).")
    var alsoLogToStderr = GoBool(false)
    @Option(name: flag("log_dir"), help: "klog log directory (not built: logs go to standard error).")
    var logDir = ""
    @Option(name: flag("log_file"), help: "klog log file (not built: logs go to standard error).")
    var logFile = ""
    @Option(name: flag("log_file_max_size"), help: "klog log file size limit in MB (not built).")
    var logFileMaxSize = 1800
    @Option(name: flag("vmodule"), help: "klog per-file verbosity (not built).")
    var vmodule = ""
    @Option(name: flag("stderrthreshold"), help: "klog level from which logs go to standard error (all do here).")
    var stderrThreshold = "2"
    @Option(name: flag("log_backtrace_at"), help: "klog backtrace location (not built).")
    var logBacktraceAt = ""
    @Option(name: flag("skip_headers"), help: "klog: no header prefixes (not built).")
    var skipHeaders = GoBool(false)
    @Option(name: flag("skip_log_headers"), help: "klog: no headers on opened log files (not built).")
    var skipLogHeaders = GoBool(false)
    @Option(name: flag("one_output"), help: "klog: one output per severity (not built).")
    var oneOutput = GoBool(false)
    @Option(name: flag("add_dir_header"), help: "klog: file directory in the header (not built).")
    var addDirHeader = GoBool(false)

    /// Extra environment prefixes from the deprecated per-runtime whitelists.
    var deprecatedEnvWhitelist: [String] {
        (dockerEnvMetadataWhitelist + "," + containerdEnvMetadataWhitelist).split(separator: ",").map { $0.trimmed }
            .filter { !$0.isEmpty }
    }

    /// `-docker-tls`'s client, loaded now so a bad file stops start-up naming its flag; nil without it.
    func dockerTLSClient() throws -> TLSClient? {
        guard dockerTLS.value else { return nil }
        do {
            return try TLSClient(files: TLSFiles(certificate: dockerTLSCert, privateKey: dockerTLSKey,
                                                 certificateAuthority: dockerTLSCA))
        } catch {
            throw ValidationError("-docker-tls-cert/-docker-tls-key/-docker-tls-ca: \(error.description)")
        }
    }

    /// The flags set away from cAdvisor's default whose feature is not built here.
    var notBuiltInUse: [String] {
        var out: [String] = []
        func check(_ name: String, _ changed: Bool) { if changed { out.append("-\(name)") } }
        check("docker_root", dockerRoot != "/var/lib/docker")
        check("crio_client_timeout", !["0", "0s", ""].contains(crioClientTimeout))
        check("container_hints", containerHints != "/etc/cadvisor/container_hints.json")
        check("mesos_agent", mesosAgent != "127.0.0.1:5051")
        check("mesos_agent_timeout", mesosAgentTimeout != "10s")
        check("machine_id_file", machineIDFile != "/etc/machine-id,/var/lib/dbus/machine-id")
        check("boot_id_file", bootIDFile != "/proc/sys/kernel/random/boot_id")
        check("initial_splay_factor", Double(initialSplayFactor) != 1)
        check("jitter_factor", Double(jitterFactor) != 1)
        check("application_metrics_count_limit", applicationMetricsCountLimit != 100)
        check("collector_cert", !collectorCert.isEmpty)
        check("collector_key", !collectorKey.isEmpty)
        // The common storage flags and influxdb's are used by the drivers built here.
        let storage: [(String, Bool)] = [
            ("storage_driver_es_host", esHost != "http://localhost:9200"), ("storage_driver_es_index", esIndex != "cadvisor"),
            ("storage_driver_es_type", esType != "stats"), ("storage_driver_es_enable_sniffer", esEnableSniffer.value),
            ("storage_driver_kafka_broker_list", kafkaBrokerList != "localhost:9092"),
            ("storage_driver_kafka_topic", kafkaTopic != "stats"), ("storage_driver_kafka_ssl_cert", !kafkaSSLCert.isEmpty),
            ("storage_driver_kafka_ssl_key", !kafkaSSLKey.isEmpty), ("storage_driver_kafka_ssl_ca", !kafkaSSLCA.isEmpty),
            ("storage_driver_kafka_ssl_verify", !kafkaSSLVerify.value), ("bq_id", !bqID.isEmpty),
            ("bq_secret", bqSecret != "notasecret"), ("bq_project_id", !bqProjectID.isEmpty), ("bq_account", !bqAccount.isEmpty),
            ("bq_credentials_file", !bqCredentialsFile.isEmpty),
        ]
        for (name, changed) in storage { check(name, changed) }
        check("log_dir", !logDir.isEmpty)
        check("log_file", !logFile.isEmpty)
        check("log_file_max_size", logFileMaxSize != 1800)
        check("vmodule", !vmodule.isEmpty)
        check("log_backtrace_at", !logBacktraceAt.isEmpty)
        check("skip_headers", skipHeaders.value)
        check("skip_log_headers", skipLogHeaders.value)
        check("one_output", oneOutput.value)
        check("add_dir_header", addDirHeader.value)
        return out
    }
}
