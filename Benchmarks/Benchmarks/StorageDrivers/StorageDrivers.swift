import Benchmark
import Foundation
import NodeMetrics

/// What the statsd and influxdb storage drivers cost per sample, all in (encoding and the syscalls
/// that send it): one `write` of 200 stored samples (one housekeeping pass of 200 cgroups) per
/// iteration; divide by 200 for the cost of one sample. statsd sends to a UDP socket on loopback that
/// nobody reads (the kernel drops what overflows its buffer, as a slow statsd does); influxdb posts
/// to a loopback responder in this process that reads each request whole and answers 204 as
/// InfluxDB's /write does (its reads count in the CPU figure too).
/// Run from Benchmarks/: swift package benchmark --target StorageDrivers
let batchSize = 200

/// 200 samples shaped like the storage bench's raw cgroups: 2 CPUs, memory figures, the root with a
/// filesystem, a few with a network interface.
func storedSamples() -> [StoredSample] {
    (0..<batchSize).map { i in
        var s = ContainerSample()
        s.timestampNanos = 1_764_480_000_000_000_000 + Int64(i)
        s.cpu.usage.total = 123_456_789_012 + UInt64(i)
        s.cpu.usage.perCPU = [61_728_394_506, 61_728_394_506 + UInt64(i)]
        s.cpu.usage.user = 100_000_000_000
        s.cpu.usage.system = 23_456_789_012
        s.memory.usage = 104_857_600 + UInt64(i) * 4096
        s.memory.workingSet = 83_886_080
        s.memory.rss = 50_000_000
        s.memory.mappedFile = 1_000_000
        if i == 0 {
            var fs = FilesystemStats(device: "/dev/sda1", type: "vfs")
            fs.capacity = 107_374_182_400
            fs.usage = 21_474_836_480
            s.filesystems = [fs]
        }
        return StoredSample(containerName: i == 0 ? "/" : "/node-metrics-bench/\(i)", metadata: ContainerMetadata(), sample: s)
    }
}

/// A UDP socket bound to a random loopback port; never read.
func udpSink() -> (fd: Int32, port: Int) {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    var len = socklen_t(MemoryLayout<sockaddr_in>.size)
    withUnsafeMutablePointer(to: &addr) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
            _ = bind(fd, p, len)
            _ = getsockname(fd, p, &len)
        }
    }
    return (fd, Int(UInt16(bigEndian: addr.sin_port)))
}

/// A loopback HTTP/1.1 responder: each request read whole (head, then Content-Length bytes), answered
/// `204 No Content`; the connection kept unless the request says `Connection: close`.
final class NoContentResponder: @unchecked Sendable {
    let listener: Int32
    let port: Int

    init() {
        let (fd, port) = Self.listen()
        listener = fd
        self.port = port
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    static func listen() -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { p in
                _ = bind(fd, p, len)
                _ = getsockname(fd, p, &len)
            }
        }
        Glibc.listen(fd, 64)
        return (fd, Int(UInt16(bigEndian: addr.sin_port)))
    }

    private func acceptLoop() {
        while true {
            let c = accept(listener, nil, nil)
            if c < 0 { return }
            Thread.detachNewThread { Self.serve(c) }
        }
    }

    private static func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer = [UInt8](), chunk = [UInt8](repeating: 0, count: 1 << 16)
        let answer = Array("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".utf8)
        while true {
            var headEnd: Int?
            while headEnd == nil {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
                headEnd = find(buffer)
            }
            guard let end = headEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
            var length = 0
            if let r = head.range(of: "content-length: ") {
                length = Int(head[r.upperBound...].prefix { $0.isNumber }) ?? 0
            }
            while buffer.count < end + 4 + length {
                let n = recv(fd, &chunk, chunk.count, 0)
                if n <= 0 { return }
                buffer.append(contentsOf: chunk[0..<n])
            }
            buffer.removeFirst(end + 4 + length)
            _ = answer.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if head.contains("connection: close") { return }
        }
    }

    private static func find(_ b: [UInt8]) -> Int? {
        guard b.count >= 4 else { return nil }
        for i in 0...(b.count - 4) where b[i] == 13 && b[i + 1] == 10 && b[i + 2] == 13 && b[i + 3] == 10 { return i }
        return nil
    }
}

nonisolated(unsafe) var driver: (any StorageDriver)?
nonisolated(unsafe) var batch: [StoredSample] = []

let benchmarks: @Sendable () -> Void = {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal],
        warmupIterations: 20,
        maxDuration: .seconds(5),
        maxIterations: 5000)
    Benchmark("statsd write, 200 samples", configuration: config, closure: { benchmark in
        for _ in benchmark.scaledIterations { try driver!.write(batch) }
    }, setup: {
        let sink = udpSink()
        var options = StorageOptions()
        options.host = "127.0.0.1:\(sink.port)"
        driver = try StatsdDriver(options: options)
        batch = storedSamples()
    }, teardown: {
        driver?.close()
        driver = nil
    })
    Benchmark("influxdb write, 200 samples", configuration: config, closure: { benchmark in
        for _ in benchmark.scaledIterations { try driver!.write(batch) }
    }, setup: {
        let responder = NoContentResponder()
        var options = StorageOptions()
        options.host = "127.0.0.1:\(responder.port)"
        driver = try InfluxDBDriver(options: options)
        batch = storedSamples()
    }, teardown: {
        driver?.close()
        driver = nil
    })
}
