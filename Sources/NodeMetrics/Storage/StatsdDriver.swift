#if canImport(Glibc)
import Glibc
#endif

/// `-storage_driver=statsd`: cAdvisor's statsd datagrams over UDP to `-storage_driver_host` (spec §2.2):
/// one datagram per figure, `<storage_driver_db>.<name>.<key>:<value>|g`, every figure a gauge (raw
/// counter totals included), no tags, the name unsanitized. A `%` in a name goes out as is (cAdvisor's
/// format-string bug is not copied).
public final class StatsdDriver: StorageDriver {
    public let name: String
    let prefix: String
    let target: (host: String, port: Int)
    private let fd: Int32

    public init(name: String = "statsd", options: StorageOptions) throws {
        self.name = name
        prefix = options.db
        target = try options.hostAndPort()
        fd = try StatsdDriver.connectUDP(target.host, target.port)
    }

    public var destination: String { "udp://\(target.host):\(target.port) prefix \(prefix)" }

    /// A connected UDP socket to the first address the host resolves to.
    static func connectUDP(_ host: String, _ port: Int) throws(StorageConfigurationError) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let ai = list else {
            throw StorageConfigurationError("udp://\(host):\(port): \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), ai.pointee.ai_protocol)
        guard fd >= 0 else { throw StorageConfigurationError("udp socket: \(String(cString: strerror(errno)))") }
        guard Glibc.connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw StorageConfigurationError("udp://\(host):\(port): \(String(cString: strerror(e)))")
        }
        HTTPEndpoint.setTimeouts(fd, .seconds(5))
        return fd
    }

    /// One sample's datagrams.
    static func datagrams(_ s: StoredSample, prefix: String) -> [String] {
        let base = "\(prefix).\(s.referenceName)."
        return FlatStats.values(s.sample, statsd: true).map { "\(base)\($0.0):\($0.1)|g" }
    }

    /// Each figure is its own datagram. A refused send (nobody listening: ICMP unreachable) throws
    /// and the batch is retried; gauges sent twice are harmless.
    public func write(_ batch: [StoredSample]) throws {
        for s in batch {
            for d in Self.datagrams(s, prefix: prefix) {
                let bytes = Array(d.utf8)
                var n: Int
                repeat {
                    n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                } while n < 0 && errno == EINTR
                guard n == bytes.count else {
                    throw StorageWriteError("statsd udp://\(target.host):\(target.port): \(n < 0 ? String(cString: strerror(errno)) : "short send")")
                }
            }
        }
    }

    public func close() { Glibc.close(fd) }
}
