/// cAdvisor's `Percentiles` (info/v2): mean, max and 50/90/95th percentiles of a resource.
public struct Percentiles: Sendable, Equatable {
    public var present = false
    public var mean: UInt64 = 0
    public var max: UInt64 = 0
    public var fifty: UInt64 = 0
    public var ninety: UInt64 = 0
    public var ninetyFive: UInt64 = 0
    public init() {}
}

/// cAdvisor's `Usage`: CPU in milli-cores, memory in bytes (working set), and how much of the period
/// the samples cover.
public struct Usage: Sendable, Equatable {
    public var percentComplete: Int32 = 0
    public var cpu = Percentiles()
    public var memory = Percentiles()
    public init() {}
}

/// cAdvisor's `DerivedStats` for /api/v2.0/summary.
public struct DerivedStats: Sendable, Equatable {
    public var timestampNanos: Int64 = 0
    /// Latest CPU rate (milli-cores) and working set (bytes).
    public var latestCPU: UInt64 = 0
    public var latestMemory: UInt64 = 0
    public var minuteUsage = Usage()
    public var hourUsage = Usage()
    public var dayUsage = Usage()
    public init() {}
}

/// Computes DerivedStats as cAdvisor's summary package does: per housekeeping a "second sample"
/// (cumulative CPU, working set); once more than 60 s are covered, a minute sample of percentiles;
/// hour and day aggregate the last 60 and 1440 minute samples (the 90th percentiles of minutes,
/// their means and maxima), with percent_complete = samples·100/needed.
public struct SummaryBuilder {
    struct SecondSample { var timestamp: Int64; var cpu: UInt64; var memory: UInt64 }
    private var seconds: [SecondSample] = []
    private var minutes: SampleRing<(Int64, Usage)>
    public private(set) var derived = DerivedStats()

    public init() {
        minutes = SampleRing(capacity: 24 * 60, maxAge: Int64.max, timestamp: { $0.0 })
    }

    public mutating func add(timestamp: Int64, cpuTotal: UInt64, workingSet: UInt64) {
        seconds.append(SecondSample(timestamp: timestamp, cpu: cpuTotal, memory: workingSet))
        derived.timestampNanos = timestamp
        derived.latestMemory = workingSet
        if seconds.count > 1, let rate = Self.cpuRate(seconds[seconds.count - 1], seconds[seconds.count - 2]) {
            derived.latestCPU = rate
        }
        guard let first = seconds.first, timestamp - first.timestamp > 60_000_000_000 else { return }
        let minute = Self.minutePercentiles(seconds)
        seconds = [seconds[seconds.count - 1]] // keep the latest for continuity
        minutes.append((timestamp, minute))
        derived.minuteUsage = minute
        derived.hourUsage = derivedUsage(60)
        derived.dayUsage = derivedUsage(60 * 24)
    }

    private func derivedUsage(_ n: Int) -> Usage {
        let recent = minutes.elements(limit: n).map(\.1)
        var usage = Self.aggregate(recent)
        usage.percentComplete = Int32(recent.count * 100 / n)
        return usage
    }

    /// CPU rate in milli-cores between two cumulative samples; nil when less than 10 ms apart or
    /// when the counter went backwards.
    static func cpuRate(_ latest: SecondSample, _ previous: SecondSample) -> UInt64? {
        let elapsed = latest.timestamp - previous.timestamp
        guard elapsed >= 10_000_000, latest.cpu >= previous.cpu else { return nil }
        return (latest.cpu - previous.cpu).multipliedFullWidth(by: 1000).low / UInt64(elapsed)
    }

    static func minutePercentiles(_ samples: [SecondSample]) -> Usage {
        var cpu = Resource(), memory = Resource()
        var last: SecondSample?
        for s in samples {
            if let previous = last {
                if let rate = cpuRate(s, previous) {
                    cpu.addSample(rate)
                    memory.addSample(s.memory)
                    last = s
                }
                // a sample too close to the previous one is skipped and does not become "last"
            } else {
                memory.addSample(s.memory)
                last = s
            }
        }
        var usage = Usage()
        if samples.count > 1 {
            let span = Double(samples[samples.count - 1].timestamp - samples[0].timestamp) / 1e9
            usage.percentComplete = span < 58 ? Int32(span * 100 / 60) : 100
        }
        usage.cpu = cpu.percentiles()
        usage.memory = memory.percentiles()
        return usage
    }

    static func aggregate(_ usages: [Usage]) -> Usage {
        var cpu = Resource(), memory = Resource()
        for u in usages {
            cpu.add(u.cpu)
            memory.add(u.memory)
        }
        var usage = Usage()
        usage.cpu = cpu.percentiles()
        usage.memory = memory.percentiles()
        return usage
    }

    /// cAdvisor's `resource`: ninetieth percentiles of the inputs, a running mean of their means, the max.
    struct Resource {
        var samples: [UInt64] = []
        var meanCount: UInt64 = 0
        var mean: Double = 0
        var max: UInt64 = 0

        mutating func add(_ p: Percentiles) {
            guard p.present else { return }
            if p.max > max { max = p.max }
            meanCount += 1
            mean = meanCount == 1 ? Double(p.mean) : (mean * Double(meanCount - 1) + Double(p.mean)) / Double(meanCount)
            samples.append(p.ninety)
        }

        mutating func addSample(_ v: UInt64) {
            var p = Percentiles()
            p.present = true
            p.mean = v
            p.max = v
            p.fifty = v
            p.ninety = v
            p.ninetyFive = v
            add(p)
        }

        func percentiles() -> Percentiles {
            let sorted = samples.sorted()
            var p = Percentiles()
            p.present = true
            p.mean = Self.saturating(mean)
            p.max = max
            p.fifty = Self.percentile(sorted, 0.5)
            p.ninety = Self.percentile(sorted, 0.9)
            p.ninetyFive = Self.percentile(sorted, 0.95)
            return p
        }

        /// Linear interpolation at d·(n+1), as cAdvisor's Uint64Slice.GetPercentile.
        static func percentile(_ sorted: [UInt64], _ d: Double) -> UInt64 {
            let count = sorted.count
            guard count > 0, d >= 0, d <= 1 else { return 0 }
            let n = d * (Double(count) + 1)
            let index = Int(n.rounded(.towardZero))
            let frac = n - Double(index)
            guard index >= 1 else { return sorted[0] }
            var value = Double(sorted[Swift.min(index, count) - 1])
            if index > 1 && index < count {
                value += frac * (Double(sorted[index]) - Double(sorted[index - 1]))
            }
            return saturating(value)
        }

        /// A Double as UInt64, clamped to 0...UInt64.max: values near UInt64.max (a kernel file's
        /// garbage) round up to 2^64 as a Double, which UInt64(_:) traps on.
        static func saturating(_ v: Double) -> UInt64 {
            guard v.isFinite, v > 0 else { return 0 }
            return v >= 18_446_744_073_709_551_615.0 ? .max : UInt64(v)
        }
    }
}
