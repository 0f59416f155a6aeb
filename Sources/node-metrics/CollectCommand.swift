import ArgumentParser
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif
import NodeMetrics

extension Duration: @retroactive ExpressibleByArgument {
    public init?(argument: String) {
        guard let d = try? GoDuration.parse(argument) else { return nil }
        self = d
    }
}

/// Runs discovery and housekeeping without serving anything, then prints what was collected.
/// Used to measure the collector on its own.
struct Collect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run discovery and housekeeping for a while without serving, then print a summary.")

    @Option(help: "How long to run (Go duration: 30s, 3m).")
    var duration: Duration = .seconds(10)

    @Option(name: .customLong("housekeeping_interval"), help: "Base housekeeping interval.")
    var housekeepingInterval: Duration = .seconds(1)

    @Option(name: .customLong("max_housekeeping_interval"), help: "Largest dynamic housekeeping interval.")
    var maxHousekeepingInterval: Duration = .seconds(60)

    @Option(name: .customLong("allow_dynamic_housekeeping"), help: "Back off while stats do not change (-allow_dynamic_housekeeping=false to turn off).")
    var allowDynamicHousekeeping = GoBool(true)

    @Option(name: .customLong("storage_duration"), help: "How much history to keep.")
    var storageDuration: Duration = .seconds(120)

    @Option(name: .customLong("root"), help: "Prefix under which the host's /proc and /sys are read.")
    var root: String = "/"

    func run() throws {
        var c = ManagerConfiguration()
        c.paths = HostPaths(root: root)
        c.housekeeping = HousekeepingPolicy(interval: housekeepingInterval, maxInterval: maxHousekeepingInterval,
                                            dynamic: allowDynamicHousekeeping.value)
        c.storage = ContainerStore.Limits(maxAge: storageDuration, maxCount: 4096)
        let manager = try ContainerManager(configuration: c)
        guard manager.start() else { throw HousekeepingNotStarted() }
        var request = timespec(tv_sec: Int(duration.nanoseconds / 1_000_000_000), tv_nsec: Int(duration.nanoseconds % 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) != 0 { request = remaining }
        manager.stop()
        let names = manager.store.names
        let samples = names.reduce(0) { $0 + (manager.store.snapshot($1)?.samples.count ?? 0) }
        let status = manager.discoveryStatus
        print("collected \(names.count) containers, \(samples) samples in history; discovery: \(status.watches) watches, "
              + "\(status.rescans) rescans, \(status.overflows) overflows\(status.failure.map { ", inotify off: \($0)" } ?? "")")
    }
}
