/// The label names shared by every series of a section (container or machine metrics), sorted,
/// and how one family's extra labels interleave with them so that each series' labels come out
/// sorted by name, as client_golang writes them.
struct LabelSchema: Sendable {
    let names: [String]

    init(names: [String]) { self.names = names.sorted() }

    /// Positions in output order: ≥ 0 a schema label, < 0 extra label `-(i + 1)`.
    func plan(extra: [String]) -> [Int] {
        var out: [Int] = []
        var i = 0
        let sortedExtra = extra.enumerated().sorted { $0.element < $1.element }
        var j = 0
        while i < names.count || j < sortedExtra.count {
            if j == sortedExtra.count || (i < names.count && names[i] < sortedExtra[j].element) {
                out.append(i)
                i += 1
            } else {
                out.append(-(sortedExtra[j].offset + 1))
                j += 1
            }
        }
        return out
    }
}

/// Takes the exporter's series as values instead of text (remote write builds its request from
/// them): each section's subjects, each family, and each series with its extra label values. Label
/// values arrive escaped as the text format has them (`PrometheusTextWriter.escapeLabelValue`).
/// A class, not a protocol, so that the sink can hold it unmanaged and call it without a reference
/// count per series; this one ignores everything, a subclass overrides what it takes.
class SeriesReceiver {
    /// A section's subjects (containers, or the machine) by their escaped schema label values.
    func subjects(_ values: [[[UInt8]]], schema: LabelSchema) {}
    /// The family the next series belong to.
    func family(_ name: String, extra: [String]) {}
    /// A series of the current family: its subject (an index into the last `subjects`), its extra
    /// label values in the family's order ("" beyond them), its value, and its timestamp (nil: none).
    func series(subject: Int, _ a: String, _ b: String, _ c: String, _ d: String, value: Double, timestampMillis: Int64?) {}
    /// A series written outside the families (version info, the agent's own), labels unescaped in
    /// the order the text has them.
    func series(_ name: String, labels: [(String, String)], value: Double, timestampMillis: Int64?) {}
}

/// Where a family's values go: writes `# HELP`/`# TYPE` before the first series of a family (a
/// family without series is left out, as client_golang does) and each series with its labels in
/// name order and the current timestamp — or, with a `receiver`, hands it the same series as values.
struct MetricSeriesSink {
    var writer: PrometheusTextWriter
    /// When set, series go here and no text is written. Not retained (a reference count per series
    /// otherwise): whoever sets it keeps the receiver alive while the sink is used.
    var receiver: Unmanaged<SeriesReceiver>?
    /// The current family.
    var name = ""
    var help = ""
    var type = PrometheusMetricType.gauge
    var plan: [Int] = []
    var extraNames: [String] = []
    var headerWritten = false
    /// Every subject's schema label values, escaped, and the same as one `{name="value",…}` block
    /// (`labelBlock`), made once per subject per scrape: most families have no extra labels and write
    /// the block as it is. `current` is the subject being written.
    private var labelValues: [[[UInt8]]] = []
    private var labelBlocks: [[UInt8]] = []
    var current = 0
    var schemaNames: [String] = []
    var timestampMillis: Int64?

    init(writer: PrometheusTextWriter) { self.writer = writer }

    /// `{name="value",…}` for escaped values in schema order (empty for an empty schema).
    static func labelBlock(_ schema: LabelSchema, _ values: [[UInt8]]) -> [UInt8] {
        guard !schema.names.isEmpty else { return [] }
        var w = PrometheusTextWriter(capacity: 256)
        w.bytes.append(UInt8(ascii: "{"))
        for (i, name) in schema.names.enumerated() {
            if i > 0 { w.bytes.append(UInt8(ascii: ",")) }
            w.label(name, values[i])
        }
        w.bytes.append(UInt8(ascii: "}"))
        return w.bytes
    }

    /// The subjects of a section (containers, or the machine) by their escaped schema label values.
    mutating func subjects(_ values: [[[UInt8]]], schema: LabelSchema) {
        current = 0
        if let receiver {
            receiver._withUnsafeGuaranteedRef { $0.subjects(values, schema: schema) }
            return
        }
        labelValues = values
        labelBlocks = values.map { Self.labelBlock(schema, $0) }
    }

    mutating func begin(family name: String, help: String, type: PrometheusMetricType, extra: [String], schema: LabelSchema) {
        self.name = name
        self.help = help
        self.type = type
        extraNames = extra
        headerWritten = false
        if let receiver {
            receiver._withUnsafeGuaranteedRef { $0.family(name, extra: extra) }
            return
        }
        schemaNames = schema.names
        plan = schema.plan(extra: extra)
    }

    /// `# HELP`/`# TYPE` of a family written outside `begin` (nothing for a receiver).
    mutating func header(_ name: String, help: String, type: PrometheusMetricType) {
        if receiver == nil { writer.header(name, help: help, type: type) }
    }

    /// A series written outside the families, with (name, unescaped value) labels in the given order.
    mutating func sample(_ name: String, labels: [(String, String)] = [], value: Double, timestampMillis: Int64? = nil) {
        if let receiver {
            receiver._withUnsafeGuaranteedRef { $0.series(name, labels: labels, value: value, timestampMillis: timestampMillis) }
        } else {
            writer.sample(name, labels: labels, value: value, timestampMillis: timestampMillis)
        }
    }

    @inline(__always)
    private mutating func start() {
        if !headerWritten {
            writer.header(name, help: help, type: type)
            headerWritten = true
        }
        writer.append(name)
    }

    @inline(__always)
    private mutating func writeLabels(_ extra: (Int) -> String) {
        guard !plan.isEmpty else { return }
        if extraNames.isEmpty {
            writer.bytes.append(contentsOf: labelBlocks[current])
            return
        }
        writer.bytes.append(UInt8(ascii: "{"))
        var first = true
        for p in plan {
            if !first { writer.bytes.append(UInt8(ascii: ",")) }
            first = false
            if p >= 0 {
                writer.label(schemaNames[p], labelValues[current][p])
            } else {
                let i = -p - 1
                writer.append(extraNames[i])
                writer.append("=\"")
                writer.appendEscaped(extra(i))
                writer.bytes.append(UInt8(ascii: "\""))
            }
        }
        writer.bytes.append(UInt8(ascii: "}"))
    }

    @inline(__always)
    private mutating func finish(_ value: Double) {
        writer.bytes.append(0x20)
        writer.endSample(value: value, timestampMillis: timestampMillis)
    }

    @inline(__always)
    private func forward(_ receiver: Unmanaged<SeriesReceiver>, _ a: String, _ b: String, _ c: String, _ d: String, _ value: Double) {
        let subject = current, stamp = timestampMillis
        receiver._withUnsafeGuaranteedRef { $0.series(subject: subject, a, b, c, d, value: value, timestampMillis: stamp) }
    }

    mutating func add(_ value: Double) {
        if let receiver {
            forward(receiver, "", "", "", "", value)
            return
        }
        start()
        writeLabels { _ in "" }
        finish(value)
    }

    mutating func add(_ value: Double, _ a: String) {
        if let receiver {
            forward(receiver, a, "", "", "", value)
            return
        }
        start()
        writeLabels { _ in a }
        finish(value)
    }

    mutating func add(_ value: Double, _ a: String, _ b: String) {
        if let receiver {
            forward(receiver, a, b, "", "", value)
            return
        }
        start()
        writeLabels { $0 == 0 ? a : b }
        finish(value)
    }

    mutating func add(_ value: Double, _ a: String, _ b: String, _ c: String) {
        if let receiver {
            forward(receiver, a, b, c, "", value)
            return
        }
        start()
        writeLabels { i in i == 0 ? a : i == 1 ? b : c }
        finish(value)
    }

    mutating func add(_ value: Double, _ a: String, _ b: String, _ c: String, _ d: String) {
        if let receiver {
            forward(receiver, a, b, c, d, value)
            return
        }
        start()
        writeLabels { i in i == 0 ? a : i == 1 ? b : i == 2 ? c : d }
        finish(value)
    }
}
