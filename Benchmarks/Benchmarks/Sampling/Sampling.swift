import Benchmark
import BenchFloor
import Foundation
import NodeMetrics

/// N real cgroups under /node-metrics-bench in every mounted hierarchy, with handles opened against
/// one descriptor budget (RLIMIT_NOFILE); the floor reads the same files with the same kept/unkept split.
final class BenchCgroups: @unchecked Sendable {
    let layout: CgroupLayout
    let names: [String]
    let hierarchy: CgroupHierarchy
    let scratch = SampleScratch()
    var handles: [CgroupHandle] = []
    var floorFiles: [floor_file] = []
    let floorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: 64 * 1024)

    init(count: Int, keepDescriptors: Bool = true) throws {
        layout = try CgroupLayout.detect()
        hierarchy = try CgroupHierarchy(layout: layout, hugePageSizesKB: HugePages.sizesKB(paths: HostPaths()))
        names = (0..<count).map { "/node-metrics-bench/\($0)" }
        for name in names {
            for mount in layout.mountPoints.values {
                try FileManager.default.createDirectory(atPath: mount + name, withIntermediateDirectories: true)
            }
        }
        let budget = keepDescriptors ? DescriptorBudget.fromProcessLimit() : DescriptorBudget(total: 0)
        // Half the budget for the handles, half for the floor, so both keep the same cgroups open.
        let half = DescriptorBudget(total: budget.total / 2)
        handles = try names.map { try CgroupHandle(hierarchy: hierarchy, name: $0, budget: half) }
        var keep = 0
        for h in handles {
            for path in h.sampleFilePaths { floorFiles.append(floor_file(fd: -1, path: strdup(path))) }
            if h.keepsDescriptors { keep = floorFiles.count }
        }
        _ = floor_open(&floorFiles, floorFiles.count, keep)
        let kept = handles.filter(\.keepsDescriptors).count
        print("bench: \(count) cgroups, \(floorFiles.count / max(count, 1)) files each, \(kept) with kept descriptors")
    }

    func destroy() {
        handles.removeAll()
        floor_close(&floorFiles, floorFiles.count)
        floorFiles.forEach { free(UnsafeMutablePointer(mutating: $0.path)) }
        floorFiles.removeAll()
        floorBuffer.deallocate()
        for name in names.reversed() {
            for mount in layout.mountPoints.values { rmdir(mount + name) }
        }
        for mount in layout.mountPoints.values { rmdir(mount + "/node-metrics-bench") }
    }
}

nonisolated(unsafe) var current: BenchCgroups?

/// Registers a benchmark over `count` fresh cgroups; `body` runs once per iteration.
func bench(_ name: String, count: Int, keepDescriptors: Bool = true, _ body: @escaping (BenchCgroups) -> Void) {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .throughput],
        warmupIterations: 3,
        maxDuration: .seconds(5),
        maxIterations: 2000)
    Benchmark(name, configuration: config, closure: { benchmark in
        let c = current!
        for _ in benchmark.scaledIterations { body(c) }
    }, setup: {
        current = try BenchCgroups(count: count, keepDescriptors: keepDescriptors)
    }, teardown: {
        current?.destroy()
        current = nil
    })
}

let benchmarks: @Sendable () -> Void = {
    for n in [1, 200, 2000] {
        bench("C core raw sample, \(n) cgroups", count: n) { c in
            for h in c.handles { blackHole(h.readRaw(into: c.scratch)) }
        }
        bench("Floor: pread same files, \(n) cgroups", count: n) { c in
            blackHole(floor_read_all(c.floorFiles, c.floorFiles.count, c.floorBuffer, 64 * 1024))
        }
    }
    bench("Sample + Swift values, 200 cgroups", count: 200) { c in
        for h in c.handles { blackHole(try? h.sample(using: c.scratch)) }
    }
    bench("C core, open+read+close per file, 200 cgroups", count: 200, keepDescriptors: false) { c in
        for h in c.handles { blackHole(h.readRaw(into: c.scratch)) }
    }

    // Discovery latency: from mkdir (in every hierarchy, as runtimes do) until the watcher reports
    // the new cgroup, with 2000 cgroups watched.
    nonisolated(unsafe) var discovery: CgroupDiscovery?
    Benchmark("Discovery: mkdir to known, 2000 cgroups",
              configuration: .init(metrics: [.wallClock], warmupIterations: 5, maxDuration: .seconds(10), maxIterations: 300),
              closure: { benchmark in
        let c = current!, d = discovery!
        let name = "/node-metrics-bench/new"
        let mounts = Array(Set(c.layout.mountPoints.filter { $0.key != .unified }.values)).sorted()
        benchmark.startMeasurement()
        for m in mounts { mkdir(m + name, 0o755) }
        while !d.poll(timeoutMs: 100).contains(.added(name)) {}
        benchmark.stopMeasurement()
        for m in mounts { rmdir(m + name) }
        while !d.poll(timeoutMs: 100).contains(.removed(name)) {}
    }, setup: {
        current = try BenchCgroups(count: 2000, keepDescriptors: false)
        discovery = CgroupDiscovery(layout: current!.layout)
        discovery!.start()
    }, teardown: {
        discovery = nil
        current?.destroy()
        current = nil
    })
}
