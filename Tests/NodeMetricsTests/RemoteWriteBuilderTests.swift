import Foundation
import Testing
@testable import NodeMetrics

/// The remote-write request built straight from the exporter's series (`RequestBuilder`) against the
/// text path it replaced (`RemoteWriteReference.swift`: render the exposition, parse it back).
@Suite(.serialized) struct RemoteWriteBuilderTests {
    /// A WriteRequest read back: per series its labels, value bits and timestamp (nil: not a
    /// WriteRequest as the encoder writes it).
    static func decode(_ raw: [UInt8]) -> [(labels: [(String, String)], value: UInt64, timestamp: Int64)]? {
        var i = 0
        func varint(_ end: Int) -> UInt64? {
            var v: UInt64 = 0, shift: UInt64 = 0
            while i < end && shift < 64 {
                let b = raw[i]
                i += 1
                v |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return v }
                shift += 7
            }
            return nil
        }
        func bytes(_ end: Int) -> Range<Int>? {
            guard let n = varint(end), i + Int(n) <= end else { return nil }
            defer { i += Int(n) }
            return i..<(i + Int(n))
        }
        var out: [(labels: [(String, String)], value: UInt64, timestamp: Int64)] = []
        while i < raw.count {
            guard raw[i] == 0x0A else { return nil }
            i += 1
            guard let ts = bytes(raw.count) else { return nil }
            i = ts.lowerBound
            var labels: [(String, String)] = []
            var value: UInt64?, timestamp: Int64?
            while i < ts.upperBound {
                let tag = raw[i]
                i += 1
                guard let field = bytes(ts.upperBound) else { return nil }
                let after = i
                i = field.lowerBound
                if tag == 0x0A {
                    guard raw[i] == 0x0A else { return nil }
                    i += 1
                    guard let name = bytes(field.upperBound), raw[i] == 0x12 else { return nil }
                    i += 1
                    guard let value = bytes(field.upperBound) else { return nil }
                    labels.append((String(decoding: raw[name], as: UTF8.self), String(decoding: raw[value], as: UTF8.self)))
                } else if tag == 0x12 {
                    guard raw[i] == 0x09 else { return nil }
                    value = raw[(i + 1)..<(i + 9)].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                    i += 9
                    guard raw[i] == 0x10 else { return nil }
                    i += 1
                    timestamp = varint(field.upperBound).map { Int64(bitPattern: $0) }
                } else {
                    return nil
                }
                i = after
            }
            guard let value, let timestamp else { return nil }
            out.append((labels, value, timestamp))
        }
        return out
    }

    static let external: [(name: String, value: String)] = [("cluster", "c1"), ("id", "ignored"), ("zone", "z")]

    /// The same sink calls into the text writer and into the builder; `round` varies subjects,
    /// label values (quotes, backslashes, newlines, empty ones), extra label values and special values.
    static func emit(_ sink: inout MetricSeriesSink, round: Int) {
        let schema = LabelSchema(names: round == 1 ? ["name", "id", "image", "container_label_a_b"] : ["name", "id", "image"])
        var subjects: [[String]] = [["web \"1\"", "/a", ""], ["db\\x\ny", "/b", "img:1"], ["", "/c", ""]]
        if round == 1 { subjects = subjects.map { $0 + ["v\($0[1])"] } }
        if round == 2 { subjects.remove(at: 0); subjects.append(["new", "/d", "i"]) }
        let values = subjects.map { s in schema.names.map { PrometheusTextWriter.escapeLabelValue(s[["name", "id", "image", "container_label_a_b"].firstIndex(of: $0)!]) } }
        sink.sample("cadvisor_version_info", labels: [("b", "x\"y"), ("a", ""), ("cluster", "own")], value: 1)
        sink.subjects(values, schema: schema)
        sink.begin(family: "container_a", help: "h", type: .counter, extra: [], schema: schema)
        for i in values.indices {
            sink.current = i
            sink.timestampMillis = i == 1 ? 1_700_000_000_123 : nil
            sink.add([1.5, Double.nan, -0.0, 1e21, 0.1 + 0.2, -7e-05][(i + round) % 6])
        }
        sink.begin(family: "container_b_total", help: "h", type: .counter, extra: ["cpu", "aaa"], schema: schema)
        sink.timestampMillis = nil
        for i in values.indices {
            sink.current = i
            for cpu in 0..<(2 + round) { sink.add(Double(cpu) * 1.25, "cpu0\(cpu)", cpu == 1 ? "" : "q\"\\") }
            sink.add(.infinity, "total", "")
            sink.add(-.infinity, "zz", "x")
            sink.add(Double(bitPattern: 0x7FF0_0000_0000_0002), "stale", "") // a NaN with a payload
        }
        sink.subjects([[PrometheusTextWriter.escapeLabelValue("boot")]], schema: LabelSchema(names: ["boot_id"]))
        sink.begin(family: "machine_c", help: "h", type: .gauge, extra: ["node_id", "core_id", "type", "level"], schema: LabelSchema(names: ["boot_id"]))
        sink.add(Double(round), "0", "1", "Data", "1")
        sink.subjects([[]], schema: LabelSchema(names: []))
        sink.begin(family: "machine_scrape_error", help: "h", type: .gauge, extra: [], schema: LabelSchema(names: []))
        sink.add(0)
        sink.sample("process_x", value: 12345.678)
    }

    /// Byte for byte: the builder's request equals the text path's (the caching encoder's and the
    /// plain parse-every-line one's) over three renders with subjects, label names and series coming
    /// and going, escaped label values, empty labels, external labels (one the series have),
    /// explicit timestamps, ±Inf, -0 and NaNs (one with a payload: the text path sends the plain NaN).
    @Test func theBuilderMatchesTheTextPathByteForByte() throws {
        let builder = RemoteWriteEncoding.RequestBuilder(external: Self.external)
        var reference = RemoteWriteEncoding.RequestEncoder()
        for round in 0..<4 {
            var text = MetricSeriesSink(writer: PrometheusTextWriter())
            Self.emit(&text, round: round % 3)
            var sink = MetricSeriesSink(writer: PrometheusTextWriter(capacity: 0))
            sink.receiver = Unmanaged.passUnretained(builder) // `builder` outlives the sink
            builder.begin(timestampMillis: Int64(1000 + round))
            Self.emit(&sink, round: round % 3)
            builder.end()
            #expect(sink.writer.bytes.isEmpty, "no text with a receiver")
            let (old, samples) = reference.encode(exposition: text.writer.bytes, timestampMillis: Int64(1000 + round), external: Self.external)
            let plain = RemoteWriteEncoding.writeRequest(RemoteWriteEncoding.series(fromExposition: text.writer.bytes,
                                                                                     timestampMillis: Int64(1000 + round), external: Self.external))
            #expect(old == plain)
            #expect(builder.samples == samples && samples > 20, "round \(round)")
            #expect(builder.request == old, "round \(round): \(text.writer.string)")
            #expect(RemoteWriteEncoding.unsnappy(builder.compressed()) == old)
            let decoded = try #require(Self.decode(builder.request))
            #expect(decoded.count == samples)
            #expect(decoded.allSatisfy { s in s.labels.allSatisfy { !$0.1.isEmpty } && s.labels.contains { $0 == ("cluster", "c1") || $0 == ("cluster", "own") } })
            #expect(decoded.allSatisfy { s in s.labels.map(\.0).map { Array($0.utf8) } == s.labels.map(\.0).map { Array($0.utf8) }.sorted { $0.lexicographicallyPrecedes($1) } })
        }
    }

    /// The agent's exporter on this host's cgroups: the builder's series equal the text path's, in
    /// order, labels, timestamps and values (the agent's own `process_*` values and
    /// `container_last_seen` are read again by each call and may differ), in cAdvisor and Kubernetes
    /// label modes, with namespace and selector filters, while cgroups come and go and a new runtime
    /// label changes the label schema; the manager stopped around each comparison.
    @Test func theBuilderMatchesTheTextPathOnTheLiveExporter() throws {
        let layout = try CgroupLayout.detect()
        var c = ManagerConfiguration()
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
        c.metricKinds = .all
        var live: [LiveCgroup] = []
        defer { for cg in live { cg.destroy() } }
        var configs: [MetricsConfiguration] = []
        for (mode, ns, selector, store) in [(ContainerLabelMode.cadvisor, "", "", true), (.kubernetes, "", "", true),
                                            (.cadvisor, "prod", "", false), (.kubernetes, "", "app in (db,cache)", true)] {
            var m = MetricsConfiguration()
            m.labelMode = mode
            m.timestamps = false
            m.storeContainerLabels = store
            m.whitelistedLabels = ["app"]
            m.filter = try MetricsFilter(namespaces: ns, selector: selector)
            configs.append(m)
        }
        let builders = configs.map { _ in RemoteWriteEncoding.RequestBuilder(external: Self.external) }
        var references = configs.map { _ in RemoteWriteEncoding.RequestEncoder() }
        func metadata(_ ns: String, _ app: String, extra: [String: String] = [:]) -> ContainerMetadata {
            var m = ContainerMetadata()
            m.aliases = ["\(app)-1"]
            m.image = app == "web" ? "" : "img/\(app):1"
            m.labels = [ContainerMetadata.podNameLabel: "pod-\(app)", ContainerMetadata.podNamespaceLabel: ns,
                        ContainerMetadata.containerNameLabel: app, "app": app, "odd.label": "v\"1\\x\ny"].merging(extra) { $1 }
            m.env = ["GREETING": "hi \(app)"]
            m.deriveKubernetesIdentity()
            return m
        }
        var names: [String: ContainerMetadata] = [:]
        for round in 0..<3 {
            var gone: String?
            // A manager per round (one restarted after `stop` misses removals), the builders kept.
            let manager = try ContainerManager(configuration: c)
            defer { manager.stop() }
            manager.start()
            let exporters = configs.map { PrometheusExporter(manager: manager, configuration: $0) }
            switch round {
            case 0:
                live = [try LiveCgroup(layout: layout), try LiveCgroup(layout: layout)]
                names[live[0].name] = metadata("prod", "web")
                names[live[1].name] = metadata("dev", "db")
            case 1:
                live.append(try LiveCgroup(layout: layout))
                names[live[2].name] = metadata("prod", "cache", extra: ["brand.new": "x"])
            default:
                gone = live[0].name
                names[live[0].name] = nil
                live.removeFirst().destroy()
            }
            let settled = eventually(20) { () -> Bool? in
                let have = Set(manager.store.names)
                return names.keys.allSatisfy({ manager.store.latest($0) != nil }) && !(gone.map(have.contains) ?? false) ? true : nil
            }
            #expect(settled == true, "round \(round): \(names.keys.map { ($0, manager.store.latest($0) != nil) }), gone \(gone ?? "-")")
            manager.stop()
            for (name, m) in names { manager.store.updateMetadata(name, m) }
            for k in configs.indices {
                let now = Clocks.wallNanos() / 1_000_000
                let text = exporters[k].scrape()
                builders[k].begin(timestampMillis: now)
                exporters[k].collect(into: builders[k])
                builders[k].end()
                let (old, samples) = references[k].encode(exposition: text, timestampMillis: now, external: Self.external)
                let mine = try #require(Self.decode(builders[k].request)), theirs = try #require(Self.decode(old))
                #expect(builders[k].samples == samples && mine.count == theirs.count && samples > 100, "round \(round), config \(k)")
                for (a, b) in zip(mine, theirs) {
                    let name = a.labels.first { $0.0 == "__name__" }?.1 ?? ""
                    let same = a.labels.elementsEqual(b.labels) { $0 == $1 } && a.timestamp == b.timestamp
                        && (a.value == b.value || name.hasPrefix("process_") || name == "container_last_seen")
                    #expect(same, "round \(round), config \(k): \(a) vs \(b)")
                    if !same { break }
                }
                let body = String(decoding: text, as: UTF8.self)
                for (name, m) in names {
                    let admitted = configs[k].filter.admits(m)
                    #expect(body.contains("id=\"\(name)\"") == admitted, "round \(round), config \(k), \(name)")
                }
            }
        }
    }
}
