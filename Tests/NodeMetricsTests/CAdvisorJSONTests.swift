import Foundation
import Testing
@testable import NodeMetrics

/// cAdvisor's v1 ContainerStats JSON: names, order and Go's value formatting.
@Suite struct CAdvisorJSONTests {
    @Test func writerFormatsLikeGo() {
        var w = JSONWriter()
        w.beginObject()
        w.field("i", Int64(-5))
        w.field("u", UInt64.max)
        w.field("f1", 1.04)
        w.field("f2", 100.0)
        w.field("f3", 0.0000001)
        w.field("s", "a\"b\\c\n<&>\u{1}é")
        w.field("s2", "\r\t\u{2028}x\u{2029}\u{2030}€\u{7F}")
        w.field("z", UInt64(0))
        w.field("b", true)
        w.map("m", ["Write": 2, "Read": 1, "Async": 3])
        w.array("a", [UInt64(1), 2]) { w, v in w.value(v) }
        w.array("e", [UInt64]()) { w, v in w.value(v) }
        w.object("o") { _ in }
        w.endObject()
        #expect(w.string == #"{"i":-5,"u":18446744073709551615,"f1":1.04,"f2":100,"f3":1e-7,"s":"a\"b\\c\n\u003c\u0026\u003e\u0001é","s2":"\r\t\u2028x\u2029‰€\#u{7F}","z":0,"b":true,"m":{"Async":3,"Read":1,"Write":2},"a":[1,2],"e":[],"o":{}}"#)
    }

    @Test func rfc3339Nano() {
        #expect(GoTime.rfc3339Nano(nanosSinceEpoch: 0) == "1970-01-01T00:00:00Z")
        #expect(GoTime.rfc3339Nano(nanosSinceEpoch: 1_795_000_000_123_456_789) == "2026-11-18T11:06:40.123456789Z")
        #expect(GoTime.rfc3339Nano(nanosSinceEpoch: 1_795_000_000_120_000_000) == "2026-11-18T11:06:40.12Z")
        #expect(GoTime.rfc3339Nano(nanosSinceEpoch: -1) == "1969-12-31T23:59:59.999999999Z")
    }

    /// Parsing keeps every digit (Docker's times have nine) and reads back what rfc3339Nano writes.
    @Test func rfc3339Parse() {
        for t: Int64 in [0, 1_795_000_000_123_456_789, 1_795_000_000_120_000_000, 1_795_000_000_000_000_000] {
            #expect(GoTime.parseRFC3339(GoTime.rfc3339Nano(nanosSinceEpoch: t)) == t)
        }
        #expect(GoTime.parseRFC3339("2026-11-18T12:06:40.5+01:00") == 1_795_000_000_500_000_000)
        #expect(GoTime.parseRFC3339("2026-11-18T06:06:40-05:00") == 1_795_000_000_000_000_000)
        #expect(GoTime.parseRFC3339("0001-01-01T00:00:00Z") == nil, "Go's zero time")
        for bad in ["", "yesterday", "2026-11-18", "2026-11-18T11:06:40.abcZ", "2026-11-18T11:06:40.Z"] {
            #expect(GoTime.parseRFC3339(bad) == nil, "\(bad)")
        }
    }

    func fixtureJSON() throws -> (String, [String: Any]) {
        var s = try CgroupHandle(hierarchy: Fixtures.v2Hierarchy(), name: "/kubepods/burstable/pod1234/abc")
            .sample(using: SampleScratch())
        s.timestampNanos = 1_795_000_000_000_000_001
        s.network = [NetInterfaceStats(name: "eth0", rxBytes: 1, rxPackets: 2, rxErrors: 0, rxDropped: 0,
                                       txBytes: 3, txPackets: 4, txErrors: 0, txDropped: 0)]
        let json = CAdvisorV1Stats.json(s) { major, _ in major == 8 ? "sda" : "" }
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return (json, object)
    }

    @Test func containerStatsShape() throws {
        let (json, o) = try fixtureJSON()
        #expect(json.hasPrefix(#"{"timestamp":"2026-11-18T11:06:40.000000001Z","cpu":{"usage":{"total":2500000000,"user":1500000000,"system":1000000000},"cfs":{"periods":100,"throttled_periods":10,"throttled_time":500000000,"bursts_periods":2,"burst_time":3000000}"#))
        // Top-level objects in Go's field order; hugetlb present because the cgroup has it.
        let order = ["\"cpu\":", "\"diskio\":", "\"memory\":", "\"hugetlb\":", "\"network\":", "\"task_stats\":",
                     "\"processes\":", "\"resctrl\":", "\"cpuset\":"].map { json.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil })
        #expect(zip(order, order.dropFirst()).allSatisfy { $0! < $1! })
        let memory = try #require(o["memory"] as? [String: Any])
        #expect(memory["working_set"] as? UInt64 == 83_886_080)
        #expect(memory["usage"] as? UInt64 == 104_857_600)
        #expect((memory["container_data"] as? [String: Any])?["pgfault"] as? UInt64 == 12345)
        #expect(json.contains(#""memory":{"usage":104857600,"max_usage":209715200,"cache":41943040,"rss":52428800,"swap":1048576,"mapped_file":8388608,"working_set":83886080,"total_active_file":20971520,"total_inactive_file":20971520,"#))
        #expect(json.contains(#""psi":{"full":{"total":500000,"avg10":6,"avg60":1,"avg300":0.1},"some":{"total":987654,"avg10":12.5,"avg60":3.25,"avg300":1}}"#))
        #expect(json.contains(#""io_service_bytes":[{"device":"sda","major":8,"minor":0,"stats":{"Read":1048576,"Write":2097152}},{"device":"","major":253,"minor":0,"stats":{"Read":4096,"Write":0}}]"#))
        #expect(json.contains(#""io_cost_usage":[{"device":"","major":253,"minor":0,"stats":{"Count":10}}]"#))
        #expect(json.contains(#""hugetlb":{"1Gi":{"usage":0,"failcnt":0},"2Mi":{"usage":4194304,"failcnt":3}}"#))
        #expect(json.contains(#""network":{"name":"eth0","rx_bytes":1,"rx_packets":2,"rx_errors":0,"rx_dropped":0,"tx_bytes":3,"tx_packets":4,"tx_errors":0,"tx_dropped":0,"interfaces":[{"name":"eth0","#))
        #expect(json.contains(#""tcp":{"Established":0,"SynSent":0,"#))
        #expect(json.contains(#""processes":{"process_count":0,"fd_count":0,"socket_count":0,"threads_current":7}"#))
        #expect(!json.contains("per_cpu_usage"), "v2 has no per-cpu usage and Go omits the empty slice")
        #expect(json.hasSuffix(#""resctrl":{},"cpuset":{"memory_migrate":0}}"#))
    }
}
