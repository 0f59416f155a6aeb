import CCgroupFast
import FoundationEssentials
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The engine: discovers containers, samples every one of them on one housekeeping thread with
/// dynamic intervals, keeps their history in the store, records events, and refreshes machine info.
/// Readers (APIs) use `store`, `events` and `machineInfo` from any thread.
public final class ContainerManager: @unchecked Sendable {
    // @unchecked: the mutable sampling state below is touched only by the housekeeping thread;
    // what other threads read is in Sendable stores or behind `shared`.
    public let configuration: ManagerConfiguration
    public let layout: CgroupLayout
    public let store: ContainerStore
    public let events: EventStore
    private let logger: Logger
    private let hierarchy: CgroupHierarchy
    private let budget: DescriptorBudget

    struct Shared {
        var running = false
        var machineInfo = MachineInfo()
        var discoveryFailure: String?
        var rescans = 0
        var overflows = 0
        var watchCount = 0
        /// Set once the first discovery pass has added every cgroup it found to the store.
        var ready = false
        var failures = SampleFailures()
    }
    private let shared = Mutex(Shared())
    private let additionObservers = Mutex<[@Sendable (String) -> Void]>([])
    private var thread: BackgroundThread?
    private var kmsg: KmsgReader?

    // Housekeeping-thread state.
    private var discovery: CgroupDiscovery
    private var queue: HousekeepingQueue
    private var handles: [String: CgroupHandle] = [:]
    private let scratch = SampleScratch()
    private var procfs: Procfs?
    private let containerProcfs: ContainerProcfs
    /// Per container: its first process and whether it has a network namespace of its own, with
    /// when that was checked. Re-checked every `namespaceRecheck` (a runtime may move the process into
    /// a new namespace after it joined the cgroup), when the process is gone, and at every rescan.
    private var firstPID: [String: (pid: Int32, own: Bool, checked: Int64)] = [:]
    private let namespaceRecheck: Int64 = 5_000_000_000
    /// When each container's spec was read (monotonic ns) and when it was added: runtimes write a
    /// cgroup's limits just after creating it, and `docker update` changes them later, so the spec
    /// is read again at every sample for 10 s after the container appears, then once a minute.
    private var specTimes: [String: (read: Int64, added: Int64)] = [:]
    private var hostNetworkNamespace: String?
    /// Where a cgroup's cgroup.procs is read (pids, else memory, else the first hierarchy).
    private let procsRoot: String?
    /// `sched`: per container, thread figures seen so far (exited threads keep counting).
    private var schedstats: [String: SchedstatAccumulator] = [:]
    /// `referenced_memory`: per container, samples taken (clear_refs every -referenced_reset_interval).
    private var referencedCycles: [String: Int] = [:]
    /// Housekeeping-thread copy of how many kept containers' latest sample failed (so a success
    /// takes the lock only when there is something to clear).
    private var failingCount = 0

    public init(configuration: ManagerConfiguration, logger: Logger = Logger(label: "node-metrics.manager")) throws {
        self.configuration = configuration
        self.logger = logger
        layout = try configuration.layout ?? CgroupLayout.detect()
        hierarchy = try CgroupHierarchy(layout: layout, hugePageSizesKB: HugePages.sizesKB(paths: configuration.paths))
        hierarchy.restrict(to: configuration.metricKinds)
        budget = configuration.descriptorBudget ?? DescriptorBudget.fromProcessLimit()
        // No more samples than storage_duration holds at the base interval (intervals only grow).
        var limits = configuration.storage
        let perInterval = (limits.maxAge / max(configuration.housekeeping.interval, 1)).saturatingAdd(2)
        limits.maxCount = Int(min(Int64(limits.maxCount), perInterval))
        store = ContainerStore(limits: limits)
        events = EventStore(retention: configuration.eventRetention)
        discovery = CgroupDiscovery(layout: layout, filter: configuration.filter, logger: logger)
        queue = HousekeepingQueue(policy: configuration.housekeeping)
        procfs = try? Procfs(paths: configuration.paths)
        containerProcfs = ContainerProcfs(paths: configuration.paths)
        procsRoot = layout.mode == .v2 ? layout.mountPoints[.unified]
            : layout.mountPoints[.pids] ?? layout.mountPoints[.memory] ?? layout.mountPoints[.cpu]
    }

    /// Calls `observer` with the name of every container the manager starts keeping (on the
    /// housekeeping thread: the observer must hand work off, not do it).
    public func observeAdditions(_ observer: @escaping @Sendable (String) -> Void) {
        additionObservers.withLock { $0.append(observer) }
    }

    /// The latest machine info (refreshed every `machineInfoInterval`).
    public var machineInfo: MachineInfo { shared.withLock { $0.machineInfo } }

    /// True once the first discovery pass has put every cgroup it found in the store: before that,
    /// the API would 404 live containers (`/healthz` says 503). Their first samples follow at once.
    public var isReady: Bool { shared.withLock { $0.ready } }

    /// Sampling failures: counts per reason, the containers whose latest sample failed.
    public var sampleFailures: SampleFailures { shared.withLock { $0.failures } }

    /// Discovery counters: rescans, inotify overflows, watches held, and why inotify is off (if it is).
    public var discoveryStatus: (rescans: Int, overflows: Int, watches: Int, failure: String?) {
        shared.withLock { ($0.rescans, $0.overflows, $0.watchCount, $0.discoveryFailure) }
    }

    /// Starts discovery, housekeeping and the kernel log reader. False (and logged) when the
    /// housekeeping thread cannot be started (a thread or memory limit): nothing is sampled then.
    @discardableResult
    public func start() -> Bool {
        let alreadyRunning = shared.withLock { s -> Bool in
            defer { s.running = true }
            return s.running
        }
        guard !alreadyRunning else { return true }
        refreshMachineInfo()
        if configuration.metricKinds.contains(.oomEvent), let path = configuration.kmsgPath {
            let reader = KmsgReader(path: path) { [weak self] oom in self?.recordOOM(oom) }
            if !reader.start() { logger.warning("cannot read \(path): no OOM events") }
            kmsg = reader
        }
        do {
            thread = try BackgroundThread(name: "nm-housekeeping") { [self] in self.run() }
        } catch {
            logger.error("no housekeeping: \(error)")
            kmsg?.stop()
            shared.withLock { $0.running = false }
            return false
        }
        return true
    }

    /// cAdvisor's `max_age`: containers whose newest sample is older than `maxAge` are sampled now, on
    /// the caller's thread with a handle of their own (cgroup files are read fresh; the /proc parts —
    /// network, connections, processes, filesystems — are carried over from the newest sample until
    /// the next housekeeping). Containers with no sample yet are left to housekeeping.
    public func refresh(_ names: [String], maxAge: Duration) {
        let limit = maxAge.nanoseconds
        let scratch = SampleScratch()
        for name in names {
            guard let latest = store.latest(name) else { continue }
            guard Clocks.wallNanos() - latest.timestampNanos > limit,
                  let handle = try? CgroupHandle(hierarchy: hierarchy, name: name, keepDescriptors: false),
                  var s = try? handle.sample(using: scratch) else { continue }
            s.carryProcfsParts(from: latest)
            addOptInCgroupStats(name, to: &s)
            store.append(name, sample: s)
            offerToBackends(name, s)
        }
    }

    /// Stops and waits for the housekeeping thread.
    public func stop() {
        let wasRunning = shared.withLock { s -> Bool in
            defer { s.running = false }
            return s.running
        }
        kmsg?.stop()
        if wasRunning { thread?.join() }
        thread = nil
    }

    private var isRunning: Bool { shared.withLock { $0.running } }

    // MARK: housekeeping thread

    private func run() {
        // The host's namespace is pid 1's; where pid 1 cannot be inspected, the agent's own.
        hostNetworkNamespace = containerProcfs.networkNamespace(pid: 1)
            ?? containerProcfs.networkNamespace(pid: getpid())
        apply(discovery.start())
        shared.withLock { $0.ready = true } // every cgroup found at start is in the store now
        let rescanEvery = configuration.globalHousekeepingInterval.nanoseconds
        let machineEvery = configuration.machineInfoInterval.nanoseconds
        // The intervals are flags (up to ~292 years): the sums saturate.
        var nextRescan = Clocks.monotonicNanos().saturatingAdd(rescanEvery)
        var startupCodeDropped = false
        var nextMachineInfo = Clocks.monotonicNanos().saturatingAdd(machineEvery)
        publishDiscoveryStatus()
        while isRunning {
            var now = Clocks.monotonicNanos()
            let wake = min(queue.nextDue() ?? now + 1_000_000_000, nextRescan, now + 500_000_000)
            let timeoutMs = Int32(max(0, (wake - now + 999_999) / 1_000_000))
            apply(discovery.poll(timeoutMs: timeoutMs))
            now = Clocks.monotonicNanos()
            if now >= nextRescan {
                apply(discovery.rescan())
                firstPID.removeAll()
                nextRescan = now.saturatingAdd(rescanEvery)
                cgf_release_free_memory() // hand the heap's free pages back to the kernel once a minute
                if !startupCodeDropped {
                    _ = cgf_drop_code_pages() // a minute in: unmap code that ran only at start-up (-map_code_on_touch)
                    startupCodeDropped = true
                }
            }
            var sampled = 0
            while let name = queue.popDue(now: now) {
                sample(name, now: now)
                sampled += 1
                if sampled % 64 == 0 { apply(discovery.poll(timeoutMs: 0)) } // keep discovery prompt
            }
            if now >= nextMachineInfo {
                refreshMachineInfo()
                nextMachineInfo = now.saturatingAdd(machineEvery)
            }
            publishDiscoveryStatus()
        }
        handles.removeAll()
    }

    private func publishDiscoveryStatus() {
        let (r, o, w, f) = (discovery.rescans, discovery.overflows, discovery.watchCount, discovery.inotifyFailure)
        shared.withLock { s in
            s.rescans = r
            s.overflows = o
            s.watchCount = w
            s.discoveryFailure = f
        }
    }

    private func apply(_ changes: [ContainerChange]) {
        for change in changes {
            switch change {
            case .added(let name): addContainer(name)
            case .removed(let name): removeContainer(name)
            }
        }
    }

    private func addContainer(_ name: String) {
        guard handles[name] == nil else { return }
        let handle: CgroupHandle
        do {
            handle = try CgroupHandle(hierarchy: hierarchy, name: name, budget: budget)
        } catch {
            logger.debug("cannot open cgroup", metadata: ["name": "\(name)", "error": "\(error)"])
            return
        }
        let spec = adjusted(name, (try? handle.spec(using: scratch)) ?? CgroupSpec())
        let created = creationTime(name)
        handles[name] = handle
        let now = Clocks.monotonicNanos()
        specTimes[name] = (now, now)
        store.add(name, spec: spec, creationTimeNanos: created)
        events.add(ContainerEvent(containerName: name, timestampNanos: created, type: .containerCreation))
        for observer in additionObservers.withLock({ $0 }) { observer(name) }
        if !(name == "/" && configuration.disableRootCgroupStats) {
            queue.add(name, due: Clocks.monotonicNanos())
        }
    }

    private func removeContainer(_ name: String) {
        guard handles.removeValue(forKey: name) != nil else { return }
        queue.remove(name)
        firstPID[name] = nil
        specTimes[name] = nil
        schedstats[name] = nil
        referencedCycles[name] = nil
        store.remove(name)
        if failingCount > 0 { clearFailure(name) } // forget it: it is not kept any more
        events.add(ContainerEvent(containerName: name, timestampNanos: Clocks.wallNanos(), type: .containerDeletion))
    }

    /// cAdvisor's creation time: the oldest modification time of the cgroup's directories (any time
    /// root gave them with `touch`: beyond the year 2262 it saturates at Int64.max), else now.
    private func creationTime(_ name: String) -> Int64 {
        var oldest: Int64?
        for root in discovery.roots {
            var st = stat()
            if stat(name == "/" ? root : root + name, &st) == 0 {
                let mtime = Clocks.nanoseconds(seconds: Int64(st.st_mtim.tv_sec), nanos: Int64(st.st_mtim.tv_nsec))
                oldest = min(oldest ?? mtime, mtime)
            }
        }
        return oldest ?? Clocks.wallNanos()
    }

    private func sample(_ name: String, now: Int64) {
        guard let handle = handles[name] else { return }
        var s: ContainerSample
        do {
            s = try handle.sample(using: scratch)
        } catch .gone {
            removeContainer(name) // removed mid-read: drop it cleanly; discovery agrees later
            recordFailure(name, reason: "gone", now: now, stillKept: false)
            return
        } catch {
            logger.warning("sampling failed", metadata: ["name": "\(name)", "error": "\(error)"])
            recordFailure(name, reason: "read_error", now: now, stillKept: true)
            queue.completed(name, at: now, changed: true)
            return
        }
        if failingCount > 0 { clearFailure(name) }
        addProcfsStats(name, to: &s)
        addOptInCgroupStats(name, to: &s)
        if name != "/" && configuration.metricKinds.contains(.disk), let layer = store.layerUsage(name) {
            s.filesystems = [layer] // measured off this path by LayerUsage
        }
        if let t = specTimes[name], now - t.added < 10_000_000_000 || now - t.read > 60_000_000_000,
           let spec = try? handle.spec(using: scratch) {
            store.updateSpec(name, spec: adjusted(name, spec))
            specTimes[name] = (now, t.added)
        }
        let changed = store.append(name, sample: s)
        offerToBackends(name, s)
        queue.completed(name, at: now, changed: changed)
    }

    /// cAdvisor's AddStats fan-out: the sample just stored goes to every storage driver's buffer
    /// (never waiting on a backend).
    private func offerToBackends(_ name: String, _ s: ContainerSample) {
        // The stored copy (its memory.stat key list dropped, parts shared with the previous sample),
        // and only when it was kept (not dropped as older than the newest).
        guard let backends = configuration.backends, !backends.isEmpty,
              let stored = store.latest(name), stored.timestampNanos == s.timestampNanos else { return }
        backends.offer(StoredSample(containerName: name, metadata: store.metadata(name) ?? ContainerMetadata(), sample: stored))
    }

    /// cAdvisor's adjusted spec: a memory limit of 0 is the machine's memory, and the root container's
    /// memory limit is the machine's memory (its cgroup has none, or v1's "unlimited" 2^63-4096).
    private func adjusted(_ name: String, _ spec: CgroupSpec) -> CgroupSpec {
        var spec = spec
        if name == "/" || (spec.hasMemory && spec.memoryLimit == 0),
           spec.memoryLimit == 0 || spec.memoryLimit > 1 << 62 {
            let capacity = shared.withLock { $0.machineInfo.memoryCapacity }
            if capacity > 0 {
                spec.hasMemory = true
                spec.memoryLimit = capacity
            }
        }
        return spec
    }

    /// Counts a failed sample (visible as `container_scrape_error` and per reason on /metrics).
    private func recordFailure(_ name: String, reason: String, now: Int64, stillKept: Bool) {
        failingCount = shared.withLock { s in
            s.failures.record(name, reason: reason, at: now, stillKept: stillKept)
            return s.failures.failing.count
        }
    }

    private func clearFailure(_ name: String) {
        failingCount = shared.withLock { s in
            s.failures.succeeded(name)
            return s.failures.failing.count
        }
    }

    /// Network, connections, processes and filesystems: what lives in /proc, for the enabled kinds.
    private func addProcfsStats(_ name: String, to s: inout ContainerSample) {
        let kinds = configuration.metricKinds
        let wantsNetwork = kinds.contains(.network), wantsTCP = kinds.contains(.tcp), wantsUDP = kinds.contains(.udp)
        let wantsProcesses = kinds.contains(.process), wantsAdvancedTCP = kinds.contains(.advtcp)
        let wantsSched = kinds.contains(.sched), wantsReferenced = kinds.contains(.referencedMemory)
        let wantsConnections = wantsTCP || wantsUDP || wantsAdvancedTCP
        guard wantsNetwork || wantsConnections || wantsProcesses || wantsSched || wantsReferenced
                || (name == "/" && kinds.contains(.disk)) else { return }
        var pids: [Int32]?
        func cgroupPIDs() -> [Int32] {
            if let pids { return pids }
            let list = procsRoot.map { containerProcfs.pids(cgroupDirectory: cgroupDirectory($0, name)) } ?? []
            pids = list
            return list
        }
        // The root container is the host: pid 1's namespace. Others only with a namespace of their own
        // that no other container holds for them (a pod's network is its sandbox's).
        var netPID: Int32?
        if name == "/" {
            netPID = 1
        } else if (wantsNetwork || wantsConnections) && ownsNetwork(name) {
            let now = Clocks.monotonicNanos()
            if let known = firstPID[name], now - known.checked < namespaceRecheck {
                netPID = known.own ? known.pid : nil
            } else {
                var pid = firstPID[name]?.pid
                var namespace = pid.flatMap(containerProcfs.networkNamespace)
                if namespace == nil { // not resolved yet, or the process left
                    pid = cgroupPIDs().first
                    namespace = pid.flatMap(containerProcfs.networkNamespace)
                }
                if let pid, let namespace {
                    let own = namespace != hostNetworkNamespace
                    firstPID[name] = (pid, own, now)
                    if own { netPID = pid }
                } else {
                    firstPID[name] = nil
                }
            }
        }
        if let pid = netPID {
            if wantsNetwork {
                do {
                    s.network = try procfs?.netDev(pid: pid).filter(\.isContainerInterface) ?? []
                } catch {
                    firstPID[name] = nil // the process left: find another next time
                }
            }
            if wantsConnections {
                s.connections = containerProcfs.connections(pid: pid, tcp: wantsTCP, udp: wantsUDP, advanced: wantsAdvancedTCP)
            }
        }
        if wantsProcesses { s.processes = containerProcfs.processStats(pids: cgroupPIDs()) }
        if wantsSched, let root = procsRoot {
            let threads = containerProcfs.threadIDs(cgroupDirectory: cgroupDirectory(root, name),
                                                    file: layout.mode == .v2 ? "cgroup.threads" : "tasks")
            s.schedstat = schedstats[name, default: SchedstatAccumulator()].update(containerProcfs.schedstats(threads: threads))
        }
        if wantsReferenced {
            let list = cgroupPIDs()
            s.referencedBytes = containerProcfs.referencedBytes(pids: list)
            let cycle = referencedCycles[name, default: 0] + 1
            referencedCycles[name] = cycle
            let every = configuration.referencedResetInterval
            if every > 0 && cycle % every == 0 { containerProcfs.clearReferences(pids: list) }
        }
        if name == "/" && kinds.contains(.disk) {
            let mounted = shared.withLock { $0.machineInfo.filesystems }
            s.filesystems = containerProcfs.filesystems(mounted, disks: (try? procfs?.diskStats()) ?? [])
        }
    }

    /// Whether a container's network series are its own: not when its runtime says it joined another
    /// container's network namespace (a pod's app containers; `--network container:`); a container of
    /// a pod whose runtime has not answered yet waits for the answer (only the sandbox gets the pod's
    /// network), as cAdvisor reports network on the sandbox only.
    private func ownsNetwork(_ name: String) -> Bool {
        if let meta = store.metadata(name), !meta.runtime.isEmpty { return !meta.sharesNetwork }
        return ContainerIdentity.parse(name)?.podUID == nil
    }

    /// `memory_numa` and `cpuset`: cgroup v1 files the C core does not read (both kinds are off by default).
    private func addOptInCgroupStats(_ name: String, to s: inout ContainerSample) {
        let kinds = configuration.metricKinds
        if kinds.contains(.memoryNuma), let root = layout.mountPoints[.memory], layout.mode != .v2,
           let text = HostFiles.read(cgroupDirectory(root, name) + "/memory.numa_stat") {
            s.numa = ContainerProcfs.numaStat(text)
        }
        if kinds.contains(.cpuset), let root = layout.mountPoints[.cpuset], layout.mode != .v2,
           let line = HostFiles.firstLine(cgroupDirectory(root, name) + "/cpuset.memory_migrate") {
            s.memoryMigrate = UInt64(line) ?? 0
        }
    }

    private func cgroupDirectory(_ root: String, _ name: String) -> String { name == "/" ? root : root + name }

    private func refreshMachineInfo() {
        let info = MachineInfo.read(paths: configuration.paths)
        shared.withLock { $0.machineInfo = info }
    }

    private func recordOOM(_ oom: OOMInstance) {
        events.add(ContainerEvent(containerName: oom.containerName, timestampNanos: oom.timestampNanos, type: .oom,
                                  constraint: oom.constraint))
        events.add(ContainerEvent(containerName: oom.victimContainerName, timestampNanos: oom.timestampNanos,
                                  type: .oomKill, pid: oom.pid, processName: oom.processName, constraint: oom.constraint))
        store.recordOOM(oom.containerName)
    }

}
