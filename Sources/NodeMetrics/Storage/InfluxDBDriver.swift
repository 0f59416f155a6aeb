import FoundationEssentials

/// `-storage_driver=influxdb`: cAdvisor's points in InfluxDB 1.x line protocol, POSTed to
/// `/write?consistency=&db=<db>&precision=&rp=<rp>` over HTTP (https with `-storage_driver_secure`),
/// basic auth from `-storage_driver_user`/`-storage_driver_password` (spec §2.3). One measurement per
/// figure with one integer field `value`, tags `container_name` and `machine` (plus `instance`, or
/// `device` and `type`), the sample's time in ns. One request per batch on a kept-alive connection;
/// a failed one is retried.
public final class InfluxDBDriver: StorageDriver, @unchecked Sendable {
    // @unchecked: the body buffer and the connection are used by `write`, which only the driver's
    // sender thread calls.
    public let name: String
    let client: UnixHTTPClient
    let connection: KeepAliveHTTPConnection
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
        connection = KeepAliveHTTPConnection(client: client)
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
        encoder = LineEncoder(machine: options.machineName)
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

    /// Line protocol escaping of a measurement (`,` and space) or a tag key/value (also `=`), byte by
    /// byte as InfluxDB's Go client (cAdvisor's) escapes them.
    static func appendEscaped(_ s: String, tag: Bool, into out: inout [UInt8]) {
        var s = s
        s.withUTF8 { utf8 in
            for b in utf8 {
                if b == UInt8(ascii: ",") || b == UInt8(ascii: " ") || (tag && b == UInt8(ascii: "=")) {
                    out.append(UInt8(ascii: "\\"))
                }
                out.append(b)
            }
        }
    }

    /// One line as text (tests): tags sorted by key, empty values left out; uint64 figures go out as
    /// int64 (line protocol's `i`): cAdvisor wraps values ≥ 2^63 negative, here they are clamped to
    /// 2^63-1.
    static func point(_ measurement: String, _ tags: [(String, String)], _ value: UInt64, _ time: Int64) -> String {
        var line: [UInt8] = []
        appendEscaped(measurement, tag: false, into: &line)
        for (k, v) in tags.sorted(by: { $0.0 < $1.0 }) where !v.isEmpty {
            line.append(UInt8(ascii: ","))
            appendEscaped(k, tag: true, into: &line)
            line.append(UInt8(ascii: "="))
            appendEscaped(v, tag: true, into: &line)
        }
        var encoder = LineEncoder(machine: "")
        encoder.setTime(time)
        encoder.endLine(value, into: &line)
        return String(decoding: line, as: UTF8.self)
    }

    /// Builds cAdvisor's points (§2.3) as bytes: per sample, its escaped tags and time once, then one
    /// line per figure with no string or array of its own.
    struct LineEncoder {
        /// `,machine=<escaped>`, or empty when the machine name is.
        let machineTag: [UInt8]
        /// `,container_name=<escaped>` of the sample being encoded, or empty.
        private var nameTag: [UInt8] = []
        /// ` <time>\n` of the sample being encoded.
        private var timeTail: [UInt8] = []

        init(machine: String) {
            var tag: [UInt8] = []
            if !machine.isEmpty {
                tag.append(utf8: ",machine=")
                InfluxDBDriver.appendEscaped(machine, tag: true, into: &tag)
            }
            machineTag = tag
        }

        mutating func setTime(_ time: Int64) {
            timeTail.removeAll(keepingCapacity: true)
            timeTail.append(UInt8(ascii: " "))
            if time < 0 { timeTail.append(UInt8(ascii: "-")) }
            timeTail.appendDecimal(time.magnitude)
            timeTail.append(0x0A)
        }

        /// ` value=<v>i <time>\n`.
        @inline(__always)
        func endLine(_ value: UInt64, into out: inout [UInt8]) {
            out.append(utf8: " value=")
            out.appendDecimal(min(value, UInt64(Int64.max)))
            out.append(UInt8(ascii: "i"))
            out.append(contentsOf: timeTail)
        }

        /// `<measurement>[,container_name=…][,device=…|,instance=…][,machine=…][,type=…] value=<v>i <time>`.
        @inline(__always)
        func line(_ measurement: StaticString, device: String? = nil, instance: Int? = nil, type: StaticString? = nil,
                  _ value: UInt64, into out: inout [UInt8]) {
            measurement.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: nameTag)
            if let device, !device.isEmpty {
                out.append(utf8: ",device=")
                InfluxDBDriver.appendEscaped(device, tag: true, into: &out)
            }
            if let instance {
                out.append(utf8: ",instance=")
                out.appendDecimal(UInt64(instance))
            }
            out.append(contentsOf: machineTag)
            if let type {
                out.append(utf8: ",type=")
                type.withUTF8Buffer { out.append(contentsOf: $0) }
            }
            endLine(value, into: &out)
        }

        /// Appends one sample's points (cAdvisor's measurements, §2.3).
        mutating func points(_ s: StoredSample, into out: inout [UInt8]) {
            let name = s.referenceName
            nameTag.removeAll(keepingCapacity: true)
            if !name.isEmpty {
                nameTag.append(utf8: ",container_name=")
                InfluxDBDriver.appendEscaped(name, tag: true, into: &nameTag)
            }
            setTime(s.sample.timestampNanos)
            let c = s.sample.cpu.usage, m = s.sample.memory
            line("cpu_usage_total", c.total, into: &out)
            line("cpu_usage_system", c.system, into: &out)
            line("cpu_usage_user", c.user, into: &out)
            for (i, v) in c.perCPU.enumerated() { line("cpu_usage_per_cpu", instance: i, v, into: &out) }
            line("load_average", 0, into: &out) // cAdvisor's load reader is off by default
            line("memory_usage", m.usage, into: &out)
            line("memory_working_set", m.workingSet, into: &out)
            let net = FlatStats.firstInterface(s.sample)
            line("rx_bytes", net?.rxBytes ?? 0, into: &out)
            line("rx_errors", net?.rxErrors ?? 0, into: &out)
            line("tx_bytes", net?.txBytes ?? 0, into: &out)
            line("tx_errors", net?.txErrors ?? 0, into: &out)
            for fs in s.sample.filesystems {
                line("fs_usage", device: fs.device, type: "usage", fs.usage, into: &out)
                line("fs_limit", device: fs.device, type: "limit", fs.capacity, into: &out)
            }
        }
    }

    /// One sample's points as text (tests).
    static func points(_ s: StoredSample, machine: String) -> String {
        var encoder = LineEncoder(machine: machine), out: [UInt8] = []
        encoder.points(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The request body being built (reused by every write: the sender thread is the only caller).
    private var body: [UInt8] = []
    private var encoder: LineEncoder

    public func write(_ batch: [StoredSample]) throws {
        body.removeAll(keepingCapacity: true)
        for s in batch { encoder.points(s, into: &body) }
        let response = try connection.request("POST", path, headers: headers, body: body, maxBody: 1 << 20)
        guard (200..<300).contains(response.status) else {
            throw StorageWriteError("failed to write stats to influxDb - HTTP \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
    }

    public func close() { connection.close() }
}
