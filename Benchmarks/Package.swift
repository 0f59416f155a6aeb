// swift-tools-version:6.1
// Benchmarks for node-metrics, kept out of the root package so its build stays fast.
// Run from this directory as root: swift package benchmark
import PackageDescription

let package = Package(
    name: "node-metrics-benchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "node-metrics", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The floor: a plain C loop that preads the same files from already-open descriptors.
        .target(name: "BenchFloor", path: "Sources/BenchFloor"),
        .executableTarget(
            name: "Sampling",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "NodeMetrics", package: "node-metrics"),
                "BenchFloor",
            ],
            path: "Benchmarks/Sampling",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
