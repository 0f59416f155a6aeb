/// One new sample handed to the backend storage drivers (cAdvisor's `AddStats`): the container as its
/// `ContainerReference` names it, and the sample the manager has just stored.
public struct StoredSample: Sendable {
    /// The cgroup name ("/docker/<id>", "/system.slice/x.scope", "/").
    public var containerName: String
    /// What the runtime knows (aliases, namespace, labels); empty for raw cgroups.
    public var metadata: ContainerMetadata
    public var sample: ContainerSample

    public init(containerName: String, metadata: ContainerMetadata, sample: ContainerSample) {
        self.containerName = containerName
        self.metadata = metadata
        self.sample = sample
    }

    /// The name every cAdvisor driver gives the container: `Aliases[0]` when there is one, else the
    /// cgroup name (so a containerd container is named by its id, as in cAdvisor).
    public var referenceName: String { metadata.aliases.first ?? containerName }
}

/// A backend storage driver (an item of `-storage_driver`): turns a batch of samples into its wire
/// format and sends it. The backend path calls `write` and `close` from that driver's own sender
/// thread only, so a driver may block on its socket and needs no lock of its own.
public protocol StorageDriver: AnyObject, Sendable {
    /// The item of `-storage_driver` ("influxdb", "kafka", ...): the `driver` label of the
    /// `node_metrics_storage_*` series and the name in `/validate/`.
    var name: String { get }
    /// Sends a batch, oldest first. Throwing means the backend did not take it: the whole batch is
    /// kept and retried with backoff (so a driver sends a batch all or nothing, or dedups itself).
    func write(_ batch: [StoredSample]) throws
    /// Flushes what the driver holds and releases its connections (once, after the last write).
    func close()
    /// Where the driver sends, for `/validate/`.
    var destination: String { get }
}

extension StorageDriver {
    /// Where the driver sends, for `/validate/` ("http://host:8086 db=cadvisor"); empty by default.
    public var destination: String { "" }
}
