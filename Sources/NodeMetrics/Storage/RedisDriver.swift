#if canImport(Glibc)
import Glibc
#endif

/// `-storage_driver=redis`: cAdvisor's layout (spec §2.4): `LPUSH <storage_driver_db> <json>` where
/// the JSON is `{"timestamp":<sample time µs>,"machine_name":…,"container_Name":…,"container_stats":{v1
/// ContainerStats}}`. Unlike cAdvisor (one document per buffer duration for the whole host, sent a push
/// late, errors ignored), every sample is pushed: a batch is one `MULTI … EXEC` transaction (all or
/// nothing), its replies are read, and a failure closes the connection and retries the batch.
public final class RedisDriver: StorageDriver, @unchecked Sendable {
    // @unchecked: `fd` is used by the sender thread only (write, then close).
    public let name: String
    let key: String
    let machine: String
    let target: (host: String, port: Int)
    private var fd: Int32 = -1

    public init(name: String = "redis", options: StorageOptions) throws {
        self.name = name
        key = options.db
        machine = options.machineName
        target = try options.hostAndPort()
    }

    public var destination: String { "redis://\(target.host):\(target.port) list \(key)" }

    /// One sample's document (what cAdvisor's redis and elasticsearch drivers send).
    public static func document(_ s: StoredSample, machine: String) -> [UInt8] {
        var w = JSONWriter()
        w.beginObject()
        w.field("timestamp", s.sample.timestampNanos / 1000)
        w.field("machine_name", machine)
        w.field("container_Name", s.referenceName)
        w.key("container_stats")
        CAdvisorV1Stats.write(s.sample, to: &w)
        w.endObject()
        return w.bytes
    }

    static func bulk(_ bytes: [UInt8], into out: inout [UInt8]) {
        out += Array("$\(bytes.count)\r\n".utf8)
        out += bytes
        out += [13, 10]
    }

    static func command(_ args: [[UInt8]], into out: inout [UInt8]) {
        out += Array("*\(args.count)\r\n".utf8)
        for a in args { bulk(a, into: &out) }
    }

    /// The batch's wire bytes: `MULTI`, an `LPUSH <key> <document>` per sample, `EXEC`.
    public static func transaction(_ batch: [StoredSample], key: String, machine: String) -> [UInt8] {
        var out: [UInt8] = []
        command([Array("MULTI".utf8)], into: &out)
        let lpush = Array("LPUSH".utf8), list = Array(key.utf8)
        for s in batch { command([lpush, list, document(s, machine: machine)], into: &out) }
        command([Array("EXEC".utf8)], into: &out)
        return out
    }

    public func write(_ batch: [StoredSample]) throws {
        let out = Self.transaction(batch, key: key, machine: machine)
        do {
            if fd < 0 { fd = try HTTPEndpoint.connectTCP(target.host, target.port, timeout: .seconds(10)) }
            try FileOutput.writeAll(fd, out, name: destination)
            var reader = RESPReader(fd: fd)
            for _ in 0..<(batch.count + 2) { try reader.reply() }
        } catch {
            if fd >= 0 { Glibc.close(fd); fd = -1 }
            throw StorageWriteError("redis \(target.host):\(target.port): \(error)")
        }
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }
}

/// Reads RESP replies from a blocking socket; an error reply (`-…`), at any depth, throws.
struct RESPReader {
    let fd: Int32
    private var buffer: [UInt8] = []
    private var position = 0

    init(fd: Int32) { self.fd = fd }

    private mutating func line() throws(StorageWriteError) -> [UInt8] {
        while true {
            if let i = buffer[position...].firstIndex(of: 10), i > position, buffer[i - 1] == 13 {
                let l = Array(buffer[position..<(i - 1)])
                position = i + 1
                return l
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw StorageWriteError(n == 0 ? "connection closed" : "read: \(String(cString: strerror(errno)))") }
            if position > 0 { buffer.removeFirst(position); position = 0 }
            buffer += chunk[0..<n]
            guard buffer.count < 1 << 20 else { throw StorageWriteError("reply line too long") }
        }
    }

    private mutating func skip(_ count: Int) throws(StorageWriteError) {
        while buffer.count - position < count {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { throw StorageWriteError("connection closed") }
            buffer += chunk[0..<n]
        }
        position += count
    }

    /// Consumes one whole reply.
    mutating func reply() throws(StorageWriteError) {
        let l = try line()
        guard let kind = l.first else { throw StorageWriteError("empty reply") }
        let rest = String(decoding: l.dropFirst(), as: UTF8.self)
        switch kind {
        case UInt8(ascii: "+"), UInt8(ascii: ":"): return
        case UInt8(ascii: "-"): throw StorageWriteError(rest)
        case UInt8(ascii: "$"):
            guard let n = Int(rest) else { throw StorageWriteError("bad bulk length \(rest)") }
            if n >= 0 { try skip(n + 2) }
        case UInt8(ascii: "*"):
            guard let n = Int(rest) else { throw StorageWriteError("bad array length \(rest)") }
            if n > 0 { for _ in 0..<n { try reply() } }
        default: throw StorageWriteError("unexpected reply \(String(decoding: l.prefix(40), as: UTF8.self))")
        }
    }
}
