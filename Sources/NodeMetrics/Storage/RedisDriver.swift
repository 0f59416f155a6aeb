#if canImport(Glibc)
import Glibc
#endif

/// `-storage_driver=redis`: cAdvisor's layout (spec §2.4): `LPUSH <storage_driver_db> <json>` where
/// the JSON is `{"timestamp":<sample time µs>,"machine_name":…,"container_Name":…,"container_stats":{v1
/// ContainerStats}}`. Unlike cAdvisor (one document per buffer duration for the whole host, sent a push
/// late, errors ignored), every sample is pushed: a batch is one `MULTI … EXEC` transaction (all or
/// nothing), its replies are read, and a failure closes the connection and retries the batch.
public final class RedisDriver: StorageDriver, @unchecked Sendable {
    // @unchecked: `fd` and the buffers are used by the sender thread only (write, then close).
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
        writeDocument(s, machineJSON: JSONWriter.escaped(machine), to: &w)
        return w.bytes
    }

    /// Appends one sample's document to `w` (a batch writes all of them into one buffer);
    /// `machineJSON` is the machine name as a JSON string (`JSONWriter.escaped`, once per batch).
    static func writeDocument(_ s: StoredSample, machineJSON: [UInt8], to w: inout JSONWriter) {
        w.beginObject()
        w.field(literal: "timestamp", s.sample.timestampNanos / 1000)
        w.key(literal: "machine_name")
        w.value(json: machineJSON)
        w.field(literal: "container_Name", s.referenceName)
        w.key(literal: "container_stats")
        CAdvisorV1Stats.write(s.sample, to: &w)
        w.endObject()
    }

    /// Buffers a batch is encoded in, kept from one batch to the next (sender thread only) unless
    /// they grew past `keptCapacity` (a batch after an outage).
    private var out = JSONWriter(capacity: 0), doc = JSONWriter(capacity: 0)
    static let keptCapacity = 4 << 20

    /// The batch's wire bytes: `MULTI`, an `LPUSH <key> <document>` per sample, `EXEC`.
    public static func transaction(_ batch: [StoredSample], key: String, machine: String) -> [UInt8] {
        var out = JSONWriter(capacity: 0), doc = JSONWriter(capacity: 0)
        encode(batch, key: key, machine: machine, into: &out, scratch: &doc)
        return out.bytes
    }

    /// `transaction` in the driver's kept buffers (what `write` sends; sender thread only).
    public func transaction(_ batch: [StoredSample]) -> [UInt8] {
        out.reset(keepingAtMost: Self.keptCapacity)
        doc.reset(keepingAtMost: Self.keptCapacity)
        Self.encode(batch, key: key, machine: machine, into: &out, scratch: &doc)
        return out.bytes
    }

    /// RESP arrays of bulk strings (`*<n>\r\n` then `$<length>\r\n<bytes>\r\n` per argument).
    private static func encode(_ batch: [StoredSample], key: String, machine: String, into out: inout JSONWriter,
                               scratch doc: inout JSONWriter) {
        out.reset()
        out.raw("*1\r\n$5\r\nMULTI\r\n")
        let machineJSON = JSONWriter.escaped(machine)
        let keyBytes = Array(key.utf8)
        for s in batch {
            doc.reset()
            writeDocument(s, machineJSON: machineJSON, to: &doc)
            out.raw("*3\r\n$5\r\nLPUSH\r\n$")
            out.rawDecimal(UInt64(keyBytes.count))
            out.raw("\r\n")
            out.raw(keyBytes)
            out.raw("\r\n$")
            out.rawDecimal(UInt64(doc.bytes.count))
            out.raw("\r\n")
            out.raw(doc.bytes)
            out.raw("\r\n")
        }
        out.raw("*1\r\n$4\r\nEXEC\r\n")
    }

    public func write(_ batch: [StoredSample]) throws {
        let out = transaction(batch)
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
