import ArgumentParser
import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import NodeMetrics
import ServiceLifecycle
import UnixSignals

extension Serve {
    func run() async throws {
        if version.value {
            print("node-metrics version \(AgentVersion.current) (\(AgentVersion.revision)), cAdvisor-compatible API")
            return
        }
        cgf_tune_malloc() // at most 2 malloc arenas (README: resident memory)
        let codeOnTouch = mapCodeOnTouch.value ? cgf_map_code_on_touch() : 0
        let level: Logger.Level = verbosity >= 4 ? .debug : .info
        let output: AgentLogHandler.Output = cgf_stderr_is_journal() != 0 ? .journal : .logfmt
        LoggingSystem.bootstrap { AgentLogHandler(label: $0, level: level, output: output) }
        let logger = Logger(label: "node-metrics")
        CrashHandler.install(logger: logger)
        if codeOnTouch > 0 {
            logger.info("code mapped page by page as it runs", metadata: ["mappings": "\(codeOnTouch)"])
        } else if codeOnTouch < 0 {
            logger.info("code mapped with the kernel's fault-around (userfaultfd: \(String(cString: strerror(-codeOnTouch))))")
        }
        for f in unbuiltFlagsInUse {
            logger.warning("flag \(f) is accepted for cAdvisor compatibility but its feature is not built; it has no effect")
        }
        var configuration = try managerConfiguration()
        configuration.backends = try storageBackends(logger: logger)
        let manager = try ContainerManager(configuration: configuration, logger: logger)
        for (kind, reason) in manager.configuration.metricKinds.uncollected {
            logger.warning("metric kind \(kind.rawValue) is enabled but has no collector here: \(reason); it exports nothing")
        }
        let runtimes = RuntimeMetadata(store: manager.store, endpoints: manager.configuration.runtimeEndpoints,
                                       envWhitelist: envMetadataWhitelist.split(separator: ",").map { $0.trimmed } + compat.deprecatedEnvWhitelist,
                                       layerUsage: manager.configuration.metricKinds.contains(.disk)
                                           ? LayerUsage(store: manager.store, paths: manager.configuration.paths,
                                                        machineInfo: { manager.machineInfo }, logger: logger) : nil,
                                       logger: logger)
        manager.observeAdditions { runtimes.containerAdded($0) }
        let exporter = PrometheusExporter(manager: manager, configuration: try metricsConfiguration(), runtimes: runtimes)
        let authenticator = try authenticator()
        if let authenticator {
            logger.info("authentication", metadata: ["scheme": "\(authenticator.scheme)", "file": "\(authenticator.path)",
                                                     "users": "\(authenticator.userCount)",
                                                     "protects": "\(httpAuthAllEndpoints.value ? "all endpoints" : "web UI")"])
        }
        let tls = try security.tlsCertificates(), tokens = try security.bearerTokens()
        for files in [tls, tokens] as [(any CredentialFiles)?] {
            if let files { logger.info("credentials loaded", metadata: ["files": "\(files.paths.joined(separator: ","))", "loaded": "\(files.loadedSummary)"]) }
        }
        var kubelet = kubeletConfiguration()
        kubelet.storage = runtimes.layerUsage
        let router = APIRouter(manager: manager, urlBasePrefix: urlBasePrefix, exporter: exporter,
                               prometheusEndpoint: prometheusEndpoint, authenticator: authenticator,
                               protectAllEndpoints: httpAuthAllEndpoints.value, kubelet: kubelet,
                               tokens: tokens, clientCertificates: tls?.verifiesClients ?? false)
        let server = HTTPServer(router: router, tls: tls)
        // Only the referenced-memory reset writes a file (/proc/<pid>/clear_refs): the sandbox's opens
        // are read-only unless it is on.
        let writeOpens = manager.configuration.metricKinds.contains(.referencedMemory)
            && manager.configuration.referencedResetInterval > 0
        var services: [any Service] = [
            ManagerService(manager: manager, runtimes: runtimes),
            HTTPService(server: server, host: listenIP, port: port, logger: logger, onListening: { [seccomp] in
                defer { CrashHandler.armDebugTrapIfRequested(logger: logger) }
                guard seccomp.value else { return }
                do {
                    let skipped = try Sandbox.confine(allowingWriteOpens: writeOpens)
                    logger.info("seccomp sandbox active", metadata: [
                        "allowed": "\(Sandbox.allowedSystemCalls.count - skipped)",
                        "argument_checked": "\(Sandbox.argumentCheckedSystemCalls.joined(separator: ","))",
                        "opens": "\(writeOpens ? "read-only or write-only (clear_refs)" : "read-only")",
                        "self_check": "\(Sandbox.selfCheck() ? "mount(2) refused with EPERM" : "mount(2) NOT refused")",
                    ])
                    Sandbox.runDebugProbesIfRequested(allowingWriteOpens: writeOpens, logger: logger)
                } catch {
                    logger.error("running without the seccomp sandbox", metadata: ["error": "\(error)"])
                }
            }),
        ]
        if seccomp.value { services.append(SandboxMonitorService(logger: logger)) }
        if let config = try remoteWriteConfiguration() {
            let writer = try RemoteWriter(configuration: config, exporter: exporter)
            logger.info("remote write", metadata: ["urls": "\(config.urls.joined(separator: ","))", "interval": "\(config.interval)"])
            services.append(RemoteWriteService(writer: writer))
        }
        let credentials = ([authenticator, tls, tokens] as [(any CredentialFiles)?]).compactMap { $0 }
        if !credentials.isEmpty { services.append(CredentialReloadService(credentials: credentials, logger: logger)) }
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                       gracefulShutdownSignals: [.sigterm, .sigint],
                                                       logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// Re-reads the credential files (passwords, tokens, TLS) on SIGHUP, and tokens and TLS also when
/// their contents change (checked every `checkInterval`); files that fail keep what was loaded, and say why in the log.
struct CredentialReloadService: Service {
    let credentials: [any CredentialFiles]
    let logger: Logger
    var checkInterval: Duration = .seconds(2)

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        let watched = credentials.compactMap { $0 as? any WatchedCredentialFiles }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await _ in hangups.cancelOnGracefulShutdown() {
                    for files in credentials { report(files, Result { () throws(CredentialFileError) in try files.reload() }) }
                }
            }
            tasks.addTask {
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    try? await Task.sleep(for: checkInterval)
                    for files in watched { if let outcome = files.reloadIfChanged() { report(files, outcome) } }
                }
            }
            await tasks.next()
            tasks.cancelAll()
        }
    }

    func report(_ files: any CredentialFiles, _ outcome: Result<Void, CredentialFileError>) {
        switch outcome {
        case .success:
            logger.info("credentials reloaded", metadata: ["files": "\(files.paths.joined(separator: ","))", "loaded": "\(files.loadedSummary)"])
        case .failure(let error):
            logger.error("credentials not reloaded; the previous ones stay", metadata: ["error": "\(error)"])
        }
    }
}

/// Logs every system call the sandbox refused, once per new refusal count, every 2 s.
struct SandboxMonitorService: Service {
    let logger: Logger

    func run() async throws {
        var seen: [Int: UInt64] = [:]
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            for d in Sandbox.denials() where seen[d.number] != d.count {
                logger.warning("seccomp refused a system call with EPERM",
                               metadata: ["syscall": "\(d.name)", "number": "\(d.number)", "times": "\(d.count)"])
                seen[d.number] = d.count
            }
            try? await Task.sleep(for: .seconds(2))
        }
    }
}

/// The housekeeping thread could not be started (the manager logged why): nothing would be sampled.
struct HousekeepingNotStarted: Error, CustomStringConvertible {
    var description: String { "the housekeeping thread could not be started" }
}

/// Runs the manager and the runtime integrations until graceful shutdown.
struct ManagerService: Service {
    let manager: ContainerManager
    let runtimes: RuntimeMetadata
    func run() async throws {
        runtimes.start()
        try manager.configuration.backends?.start()
        guard manager.start() else {
            runtimes.stop()
            manager.configuration.backends?.close(grace: .zero)
            throw HousekeepingNotStarted()
        }
        try? await gracefulShutdown()
        manager.stop()
        runtimes.stop()
        // SIGTERM: what the storage drivers still buffer is sent within a few seconds.
        manager.configuration.backends?.close(grace: .seconds(3))
    }
}

/// Serves HTTP until graceful shutdown; tells systemd it is ready once the port is bound, and pings
/// its watchdog when asked to.
struct HTTPService: Service {
    let server: HTTPServer
    let host: String
    let port: Int
    let logger: Logger
    /// Runs once the port is bound, before READY=1 (the sandbox goes on here).
    var onListening: @Sendable () -> Void = {}

    func run() async throws {
        let channel = try await server.bind(host: host, port: port)
        logger.info("listening", metadata: ["address": "\(channel.localAddress.map { "\($0)" } ?? "?")"])
        onListening()
        _ = cgf_notify("READY=1")
        let watchdog = cgf_watchdog_usec()
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await channel.closeFuture.get() }
                if watchdog > 0 {
                    tasks.addTask {
                        while !Task.isCancelled {
                            try await Task.sleep(for: .microseconds(Int64(watchdog / 2)))
                            _ = cgf_notify("WATCHDOG=1")
                        }
                    }
                }
                try await tasks.next()
                tasks.cancelAll()
            }
        } onGracefulShutdown: {
            // Tell systemd at the start of the shutdown, not at its end: the unit is "deactivating"
            // while in-flight requests finish.
            _ = cgf_notify("STOPPING=1")
            channel.close(promise: nil)
        }
        try await server.shutdown()
    }
}

/// Pushes the series to the remote-write URLs until graceful shutdown, then sends what is queued
/// for up to 3 s.
struct RemoteWriteService: Service {
    let writer: RemoteWriter
    func run() async throws {
        try writer.start()
        try? await gracefulShutdown()
        writer.stop(flushTimeout: .seconds(3))
    }
}
