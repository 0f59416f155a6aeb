import CCgroupFast
#if canImport(Glibc)
import Glibc
#endif

/// `-storage_driver=statsd`: cAdvisor's statsd lines over UDP to `-storage_driver_host` (spec §2.2):
/// `<storage_driver_db>.<name>.<key>:<value>|g` per figure, every figure a gauge (raw counter totals
/// included), no tags, the name unsanitized. A `%` in a name goes out as is (cAdvisor's format-string
/// bug is not copied). Lines are packed into datagrams of up to `-storage_driver_statsd_packet_size`
/// bytes, newline-separated (statsd's multi-metric packets); 0 sends one figure per datagram, as
/// cAdvisor does.
public final class StatsdDriver: StorageDriver, @unchecked Sendable {
    // @unchecked: the buffers are used by `write`, which only the driver's sender thread calls.
    public let name: String
    let prefix: String
    let target: (host: String, port: Int)
    let fd: Int32
    /// Largest datagram lines are packed into; 0: a datagram per line.
    let packetSize: Int

    public init(name: String = "statsd", options: StorageOptions) throws {
        self.name = name
        prefix = options.db
        packetSize = options.statsdPacketSize
        target = try options.hostAndPort()
        fd = try StatsdDriver.connectUDP(target.host, target.port)
    }

    public var destination: String {
        "udp://\(target.host):\(target.port) prefix \(prefix), " + (packetSize > 0 ? "lines packed into datagrams of ≤ \(packetSize) bytes" : "a datagram per line")
    }

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

    /// Datagrams are sent once this many are encoded (a few sendmmsg calls' worth).
    static let flushDatagrams = 1024

    /// The datagrams being built, back to back, and where each ends (reused by every write: the
    /// sender thread is the only caller).
    private var buffer: [UInt8] = []
    private var ends: [Int] = []
    /// `<prefix>.<name>.` of the sample being encoded, and the line being encoded.
    private var base: [UInt8] = []
    private var line: [UInt8] = []

    /// Appends one sample's lines to the datagrams of `buffer` (ending at `ends`): for each figure of
    /// `FlatStats` in its order, `<prefix>.<name>.<key>:<value>|g`. With `packetSize` > 0 a line joins
    /// the last datagram (after a newline) while that stays within `packetSize` bytes, else it starts
    /// a new one; a line longer than `packetSize` goes alone.
    static func encode(_ s: StoredSample, prefix: String, packetSize: Int, base: inout [UInt8], line: inout [UInt8],
                       into buffer: inout [UInt8], ends: inout [Int]) {
        base.removeAll(keepingCapacity: true)
        base.append(utf8: prefix)
        base.append(UInt8(ascii: "."))
        base.append(utf8: s.referenceName)
        base.append(UInt8(ascii: "."))
        FlatStats.forEach(s.sample, statsd: true) { device, key, value in
            line.removeAll(keepingCapacity: true)
            line.append(contentsOf: base)
            if let device {
                line.append(utf8: device)
                line.append(UInt8(ascii: "."))
            }
            key.withUTF8Buffer { line.append(contentsOf: $0) }
            line.append(UInt8(ascii: ":"))
            line.appendDecimal(value)
            line.append(UInt8(ascii: "|"))
            line.append(UInt8(ascii: "g"))
            let lastStart = ends.count >= 2 ? ends[ends.count - 2] : 0
            if packetSize > 0, !ends.isEmpty, buffer.count - lastStart + 1 + line.count <= packetSize {
                buffer.append(UInt8(ascii: "\n"))
                buffer.append(contentsOf: line)
                ends[ends.count - 1] = buffer.count
            } else {
                buffer.append(contentsOf: line)
                ends.append(buffer.count)
            }
        }
    }

    /// One sample's datagrams as text (tests).
    static func datagrams(_ s: StoredSample, prefix: String, packetSize: Int = 0) -> [String] {
        var base: [UInt8] = [], line: [UInt8] = [], buffer: [UInt8] = [], ends: [Int] = []
        encode(s, prefix: prefix, packetSize: packetSize, base: &base, line: &line, into: &buffer, ends: &ends)
        return ends.indices.map { String(decoding: buffer[($0 == 0 ? 0 : ends[$0 - 1])..<ends[$0]], as: UTF8.self) }
    }

    /// The batch's datagrams are sent in order, up to 256 per sendmmsg(2) call (packed lines of one
    /// sample and the next may share a datagram). A failed send
    /// (nobody listening: an ICMP refusal; a datagram too large) throws naming how many of the
    /// batch's datagrams went out; the whole batch is then retried, so those go out again (gauges
    /// sent twice are harmless) and nothing is lost while the batch stays in the buffer.
    public func write(_ batch: [StoredSample]) throws {
        var sent = 0
        for (i, s) in batch.enumerated() {
            Self.encode(s, prefix: prefix, packetSize: packetSize, base: &base, line: &line, into: &buffer, ends: &ends)
            if ends.count >= Self.flushDatagrams || i == batch.count - 1 {
                var err: Int32 = 0
                let done = buffer.withUnsafeBufferPointer { b in
                    ends.withUnsafeBufferPointer { e in
                        guard let bytes = b.baseAddress, let offsets = e.baseAddress else { return 0 }
                        return cgf_send_datagrams(fd, bytes, offsets, e.count, &err)
                    }
                }
                sent += done
                buffer.removeAll(keepingCapacity: true)
                ends.removeAll(keepingCapacity: true)
                guard err == 0 else {
                    let reason = err == CGF_SEND_STOPPED
                        ? "the kernel stopped sending without a reason (an ICMP refusal: nobody listening?)"
                        : String(cString: strerror(err))
                    throw StorageWriteError("statsd udp://\(target.host):\(target.port): \(reason); \(sent) of the batch's datagrams sent (the batch is retried whole)")
                }
            }
        }
    }

    public func close() { Glibc.close(fd) }
}
