import ArgumentParser
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// The node-metrics executable: the agent by default (`serve`), plus `sample` and `collect`.
@main
struct NodeMetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node-metrics",
        abstract: "A container monitor compatible with cAdvisor.",
        subcommands: [Serve.self, Sample.self, Collect.self, Healthcheck.self, EncodeBench.self, RenderBench.self],
        defaultSubcommand: Serve.self)

    /// cAdvisor's Go-style boolean flags are rewritten before ArgumentParser sees them.
    static func main() async {
        let arguments = GoFlags.normalize(Array(CommandLine.arguments.dropFirst()), booleans: Serve.booleanFlags)
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}

/// Prints one cgroup's current sample as cAdvisor v1 ContainerStats JSON.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the current sample of a cgroup as cAdvisor v1 ContainerStats JSON.")

    @Argument(help: "The cgroup's name: / for the root, /docker/<id> style for the rest.")
    var name: String

    @Option(name: .customLong("root"), help: "Prefix under which the host's /proc and /sys are read (/rootfs in a container).")
    var root: String = "/"

    @Option(help: "The mountinfo file that tells where cgroups are mounted.")
    var mountinfo: String = "/proc/self/mountinfo"

    @Flag(help: "Also print the cgroup's spec (limits) after the stats.")
    var spec = false

    func run() throws {
        let paths = HostPaths(root: root)
        let layout: CgroupLayout
        do {
            layout = try CgroupLayout.detect(mountinfoPath: mountinfo)
        } catch {
            throw ValidationError("cannot find the cgroup hierarchies: \(error)")
        }
        let hierarchy = try CgroupHierarchy(layout: layout, hugePageSizesKB: HugePages.sizesKB(paths: paths))
        let handle: CgroupHandle
        do {
            handle = try CgroupHandle(hierarchy: hierarchy, name: name)
        } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let scratch = SampleScratch()
        var sample = try handle.sample(using: scratch)
        if handle.name == "/" {
            // The root container's network is the host's: /proc/1/net/dev.
            let procfs = try Procfs(paths: paths)
            sample.network = try procfs.netDev(pid: 1).filter(\.isContainerInterface)
        }
        for e in sample.errors { printError("warning: \(name): \(e)") }
        let devices = BlockDevices(paths: paths)
        print(CAdvisorV1Stats.json(sample, deviceName: devices.name))
        if spec {
            let s = try handle.spec(using: scratch)
            print("spec: cpu shares=\(s.cpuShares) quota=\(s.cpuQuota) period=\(s.cpuPeriod) mask=\(s.cpuMask) " +
                  "memory limit=\(s.memoryLimit) reservation=\(s.memoryReservation) swap=\(s.memorySwapLimit) " +
                  "pids max=\(s.pidsMax)")
        }
    }
}

/// Writes a line to standard error.
func printError(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}
