import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Names, labels and images for containers, from their runtimes, off the sampling path: the manager
/// reports each new cgroup; one thread asks the runtime that the cgroup's name points to and stores
/// the answer; another follows Docker's event stream so changes (start, rename, health) show at once.
/// A runtime that is absent, slow or restarting costs metadata only: sampling never waits for it,
/// unanswered containers are asked again with backoff, and the event stream reconnects with backoff
/// (1 s doubling to 30 s), resynchronising every container when it comes back.
public final class RuntimeMetadata: Sendable {
    public let store: ContainerStore
    public let docker: DockerClient?
    public let podman: DockerClient?
    public let containerd: ContainerdClient?
    public let crio: CRIOClient?
    public let envWhitelist: [String]
    /// `-containerd-namespace`: its cgroups (`/<namespace>/<id>`) are containerd's too.
    let containerdNamespace: String
    /// Measures the writable layers of the containers resolved here (nil: the `disk` kind is off).
    public let layerUsage: LayerUsage?
    private let logger: Logger

    struct State {
        var queue: [String] = []
        /// Names whose runtime did not answer, with when to ask again (monotonic ns) and the backoff.
        var retry: [String: (at: Int64, backoff: Int64)] = [:]
        var running = true
        var dockerVersion = ""
    }
    private let state = Mutex(State())
    private let wake = Semaphore()

    public init(store: ContainerStore, endpoints: RuntimeEndpoints, envWhitelist: [String], layerUsage: LayerUsage? = nil,
                logger: Logger) {
        self.layerUsage = layerUsage
        self.store = store
        docker = endpoints.docker.isEmpty ? nil
            : DockerClient(endpoint: (try? HTTPEndpoint.parse(endpoints.docker, tls: endpoints.dockerTLS)) ?? .unix(path: endpoints.docker),
                           runtime: "docker")
        podman = endpoints.podman.isEmpty ? nil : DockerClient(socketPath: endpoints.podman, runtime: "podman")
        containerd = endpoints.containerd.isEmpty ? nil
            : ContainerdClient(socketPath: endpoints.containerd, namespace: endpoints.containerdNamespace)
        containerdNamespace = endpoints.containerdNamespace
        crio = endpoints.crio.isEmpty ? nil : CRIOClient(socketPath: endpoints.crio)
        self.envWhitelist = envWhitelist
        self.logger = logger
    }

    /// Docker's version once known ("" otherwise).
    public var dockerVersion: String { state.withLock { $0.dockerVersion } }

    /// Starts the resolver and Docker's event follower. A thread that cannot be started (a thread or
    /// memory limit) is logged: sampling goes on without that runtime metadata.
    public func start() {
        do {
            _ = try BackgroundThread(name: "nm-runtimes") { [self] in resolveLoop() }
        } catch {
            logger.error("no runtime metadata: \(error)")
        }
        layerUsage?.start()
        guard docker != nil else { return }
        do {
            _ = try BackgroundThread(name: "nm-docker-events") { [self] in dockerEventLoop() }
        } catch {
            logger.error("no Docker events: \(error)")
        }
    }

    public func stop() {
        state.withLock { $0.running = false }
        wake.signal()
        layerUsage?.stop()
    }

    private var running: Bool { state.withLock { $0.running } }

    /// A cgroup appeared; runtime containers get their metadata soon after.
    public func containerAdded(_ name: String) {
        guard identity(name) != nil else { return }
        enqueue([name])
    }

    func enqueue(_ names: [String]) {
        guard !names.isEmpty else { return }
        state.withLock { $0.queue.append(contentsOf: names) }
        wake.signal()
    }

    private func resolveLoop() {
        while running {
            _ = wake.wait(timeoutMs: 1000)
            let now = Clocks.monotonicNanos()
            let names: [String] = state.withLock { s in
                var due = s.queue
                s.queue.removeAll()
                for (name, r) in s.retry where r.at <= now { due.append(name) }
                return due
            }
            for name in Set(names) where store.contains(name) {
                resolve(name)
            }
            state.withLock { s in s.retry = s.retry.filter { store.contains($0.key) } }
        }
    }

    /// What a cgroup's name says, with `-containerd-namespace`'s cgroups as containerd's.
    func identity(_ name: String) -> ContainerIdentity? {
        ContainerIdentity.parse(name, containerdNamespace: containerdNamespace)
    }

    /// The clients to ask for a cgroup, in order (a cgroupfs kubepods leaf names no runtime: any CRI one).
    private func clients(for identity: ContainerIdentity) -> [any RuntimeClient] {
        let all: [(ContainerIdentity.Runtime, (any RuntimeClient)?)] = [(.containerd, containerd), (.crio, crio),
                                                                       (.docker, docker), (.podman, podman)]
        return all.compactMap { runtime, client in identity.runtime == nil || identity.runtime == runtime ? client : nil }
    }

    private func resolve(_ name: String) {
        guard let identity = identity(name) else { return }
        var failure: String?
        for client in clients(for: identity) {
            do {
                guard var m = try client.metadata(id: identity.id, envWhitelist: envWhitelist) else { continue }
                if let uid = identity.podUID, m.podUID.isEmpty { m.podUID = uid }
                if m.runtime == "containerd" { m.aliases.append(name) } // cAdvisor's [id, cgroup name]
                store.updateMetadata(name, m)
                if LayerUsage.measures(m) { layerUsage?.containerChanged(name) }
                // The pod's own cgroup carries the pod's identity (it has no runtime of its own).
                if !m.podName.isEmpty, let pod = ContainerIdentity.podCgroup(of: name), store.contains(pod),
                   store.metadata(pod)?.podName != m.podName {
                    store.updateMetadata(pod, m.podIdentity)
                }
                state.withLock { _ = $0.retry.removeValue(forKey: name) }
                return
            } catch {
                failure = "\(error)"
            }
        }
        guard let failure else { return } // no runtime knows it: a raw cgroup after all
        state.withLock { s in
            let backoff = min((s.retry[name]?.backoff ?? 500_000_000).saturatingMultiply(2), 30_000_000_000)
            s.retry[name] = (Clocks.monotonicNanos() + backoff, backoff)
        }
        logger.debug("runtime metadata not available yet", metadata: ["name": "\(name)", "error": "\(failure)"])
    }

    /// Store names of the containers with this runtime id.
    func names(forID id: String) -> [String] {
        store.names.filter { identity($0)?.id == id }
    }

    private func dockerEventLoop() {
        guard let docker else { return }
        var backoff: Int64 = 1_000_000_000
        var logged = false
        while running {
            do {
                let version = try docker.version()
                state.withLock { $0.dockerVersion = version }
                logger.info("connected to Docker", metadata: ["socket": "\(docker.http.socketPath)", "version": "\(version)"])
                logged = false
                backoff = 1_000_000_000
                // Resynchronise: whatever changed while the stream was down.
                enqueue(store.names.filter { n in identity(n).map { $0.runtime == .docker || $0.runtime == nil } ?? false })
                try docker.events { [self] action, id in
                    if ["create", "start", "rename", "update", "restart", "unpause"].contains(action) || action.hasPrefix("health_status") {
                        enqueue(names(forID: id))
                    }
                    return running
                }
            } catch {
                if !logged {
                    logger.warning("Docker not reachable; sampling goes on without its metadata, retrying",
                                   metadata: ["error": "\(error.description)"])
                    logged = true
                }
            }
            guard running else { return }
            usleep(useconds_t(backoff / 1000))
            backoff = min(backoff * 2, 30_000_000_000)
        }
    }
}

/// A runtime's API as the resolver uses it: the metadata of one container id, nil when the runtime
/// does not know it; an error when the runtime cannot be asked.
protocol RuntimeClient: Sendable {
    func metadata(id: String, envWhitelist: [String]) throws -> ContainerMetadata?
}

extension DockerClient: RuntimeClient {}
extension ContainerdClient: RuntimeClient {}
