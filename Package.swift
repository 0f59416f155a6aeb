// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "node-metrics",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "NodeMetrics", targets: ["NodeMetrics"]),
        .executable(name: "node-metrics", targets: ["node-metrics"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.30.0"),
        // TLS on the listener and for Docker's tcp:// endpoint.
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.36.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.28.0"),
    ],
    targets: [
        // C core: kernel files in, fixed C structs out. Links libsystemd, libseccomp and libcrypt (bcrypt);
        // the push path links libsnappy (remote write's compression); the runtimes' gRPC client
        // (containerd, CRI) links libnghttp2. librdkafka (Kafka driver) and OpenSSL's libcrypto
        // (BigQuery's RS256 JWT) are loaded only when those drivers start (dl.h): not linked.
        .target(
            name: "CCgroupFast",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("systemd"), .linkedLibrary("seccomp"), .linkedLibrary("crypt"),
                             .linkedLibrary("snappy"), .linkedLibrary("nghttp2")]
        ),
        .target(
            name: "NodeMetrics",
            dependencies: [
                "CCgroupFast",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
                // TLS on the listener (-tls_cert_file, -tls_client_ca_file) and to a tcp:// Docker.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                // containerd's API and the CRI: messages generated from Protos/ by scripts/generate-protos.sh.
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            plugins: ["VersionStamp"]
        ),
        // Stamps the version and git revision into NodeMetrics (BuildStamp) at build time.
        .plugin(name: "VersionStamp", capability: .buildTool(), path: "Sources/VersionStamp"),
        .executableTarget(
            name: "node-metrics",
            dependencies: [
                "NodeMetrics",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            // The static Swift runtime's link arguments export every symbol of the agent's own objects
            // (46,000: a 4.3 MB dynamic symbol table nothing looks up); none are exported. GNU ld packs
            // the PIE's ~100,000 relative relocations (DT_RELR, glibc ≥ 2.36): the 2.3 MB of .rela.dyn the
            // loader read at every start become 20 kB (README: resident memory). gold cannot; lld can but
            // resolves archive symbols in another order and pulls Foundation and ICU back in (80 MB).
            linkerSettings: [.unsafeFlags(["-Xlinker", "--no-export-dynamic", "-use-ld=bfd",
                                           "-Xlinker", "-z", "-Xlinker", "pack-relative-relocs"])]
        ),
        .testTarget(name: "NodeMetricsTests", dependencies: ["NodeMetrics", "CCgroupFast"], exclude: ["Fixtures"]),
    ]
)
