// swift-tools-version:6.1
// libFuzzer targets for node-metrics' Swift code, kept out of the root package (as Benchmarks/) so
// the root build stays fast and uninstrumented. Built and run by scripts/fuzz.sh, which passes
// `-sanitize=fuzzer,address` to every Swift module (libFuzzer's coverage and AddressSanitizer) and
// links libFuzzer's main into the fuzz target. The C core's targets are in Fuzz/core (plain clang).
import PackageDescription

let package = Package(
    name: "node-metrics-fuzz",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "node-metrics", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // The entry point SwiftPM expects of an executable target, handing over to libFuzzer.
        .target(name: "FuzzMain", path: "Sources/FuzzMain"),
        // Arbitrary requests (method, path, query, headers, body) through the real APIRouter on a
        // real ContainerManager. No main in Swift: FuzzMain starts libFuzzer's driver.
        .executableTarget(
            name: "fuzz-router",
            dependencies: [
                .product(name: "NodeMetrics", package: "node-metrics"),
                .product(name: "Logging", package: "swift-log"),
                "FuzzMain",
            ],
            path: "Sources/FuzzRouter",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
