import FoundationEssentials

/// `-storage_driver=influxdb`: cAdvisor's points in InfluxDB 1.x line protocol, POSTed to
/// `/write?consistency=&db=<db>&precision=&rp=<rp>` over HTTP (https with `-storage_driver_secure`),
/// basic auth from `-storage_driver_user`/`-storage_driver_password` (spec §2.3). One measurement per
/// figure with one integer field `value`, tags `container_name` and `machine` (plus `instance`, or
/// `device` and `type`), the sample's time in ns. One request per batch; a failed one is retried.
public final class InfluxDBDriver: StorageDriver {
    public let name: String
    let client: UnixHTTPClient
    let path: String
    let headers: [(String, String)]
    let machine: String
    let scheme: String
    let db: String

    public init(name: String = "influxdb", options: StorageOptions) throws {
        self.name = name
        let (host, port) = try options.hostAndPort()
        let tls: TLSClient? = options.secure ? try TLSClient(verifyingServerWith: options.caFile) : nil
        client = UnixHTTPClient(endpoint: .tcp(host: host, port: port, tls: tls), timeout: .seconds(10))
        scheme = options.secure ? "https" : "http"
        db = options.db
        path = "/write?consistency=&db=\(InfluxDBDriver.queryEscape(options.db))&precision=&rp=\(InfluxDBDriver.queryEscape(options.influxRetentionPolicy))"
        var headers: [(String, String)] = [("Host", options.host), ("User-Agent", "node-metrics/\(AgentVersion.current)"),
                                           ("Content-Type", "")]
        if !options.user.isEmpty {
            let token = Data("\(options.user):\(options.password)".utf8).base64EncodedString()
            headers.append(("Authorization", "Basic \(token)"))
        }
        self.headers = headers
        machine = options.machineName
    }

    public var destination: String { "\(scheme)://\(client.socketPath.split(separator: "/").last ?? "") db \(db)" }

    /// Percent-encodes a query value (RFC 3986 unreserved characters pass).
    static func queryEscape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%" + String(decoding: [hex[Int(b >> 4)], hex[Int(b & 15)]], as: UTF8.self)
            }
        }
        return out
    }

    /// Line protocol escaping of a measurement (`,` and space) or a tag key/value (also `=`).
    static func escape(_ s: String, tag: Bool) -> String {
        guard s.utf8.contains(where: { $0 == 44 || $0 == 32 || $0 == 61 || $0 == 92 }) else { return s }
        var out = ""
        for c in s {
            if c == "," || c == " " || (tag && c == "=") { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// uint64 figures go out as int64 (line protocol's `i`); cAdvisor wraps values ≥ 2^63 negative,
    /// here they are clamped to 2^63-1.
    static func point(_ measurement: String, _ tags: [(String, String)], _ value: UInt64, _ time: Int64) -> String {
        var line = escape(measurement, tag: false)
        for (k, v) in tags.sorted(by: { $0.0 < $1.0 }) where !v.isEmpty {
            line += ",\(escape(k, tag: true))=\(escape(v, tag: true))"
        }
        line += " value=\(min(value, UInt64(Int64.max)))i \(time)\n"
        return line
    }

    /// One sample's points (cAdvisor's measurements, §2.3).
    static func points(_ s: StoredSample, machine: String, into out: inout String) {
        let base = [("container_name", s.referenceName), ("machine", machine)]
        let t = s.sample.timestampNanos, c = s.sample.cpu.usage, m = s.sample.memory
        out += point("cpu_usage_total", base, c.total, t)
        out += point("cpu_usage_system", base, c.system, t)
        out += point("cpu_usage_user", base, c.user, t)
        for (i, v) in c.perCPU.enumerated() { out += point("cpu_usage_per_cpu", base + [("instance", "\(i)")], v, t) }
        out += point("load_average", base, 0, t) // cAdvisor's load reader is off by default
        out += point("memory_usage", base, m.usage, t)
        out += point("memory_working_set", base, m.workingSet, t)
        let net = FlatStats.firstInterface(s.sample)
        out += point("rx_bytes", base, net?.rxBytes ?? 0, t)
        out += point("rx_errors", base, net?.rxErrors ?? 0, t)
        out += point("tx_bytes", base, net?.txBytes ?? 0, t)
        out += point("tx_errors", base, net?.txErrors ?? 0, t)
        for fs in s.sample.filesystems {
            out += point("fs_usage", base + [("device", fs.device), ("type", "usage")], fs.usage, t)
            out += point("fs_limit", base + [("device", fs.device), ("type", "limit")], fs.capacity, t)
        }
    }

    public func write(_ batch: [StoredSample]) throws {
        var body = ""
        for s in batch { Self.points(s, machine: machine, into: &body) }
        let response = try client.request("POST", path, headers: headers, body: Array(body.utf8), maxBody: 1 << 20)
        guard (200..<300).contains(response.status) else {
            throw StorageWriteError("failed to write stats to influxDb - HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
    }

    public func close() {}
}
