import CCgroupFast
import Testing

/// The C core's parsers on the edge cases of the kernel formats.
@Suite struct ParserTests {
    func single(_ text: String, allowMax: Bool = false) -> (Int32, UInt64) {
        var v: UInt64 = 0
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cgf_parse_single_u64($0.baseAddress, $0.count, allowMax ? 1 : 0, &v) }
        }
        return (rc, v)
    }

    @Test func singleValues() {
        #expect(single("123\n") == (Int32(CGF_OK), 123))
        #expect(single("18446744073709551615\n") == (Int32(CGF_OK), UInt64.max))
        #expect(single("18446744073709551616\n").0 == Int32(CGF_ERANGE))
        #expect(single("99999999999999999999999\n").0 == Int32(CGF_ERANGE))
        #expect(single("").0 == Int32(CGF_EPARSE))
        #expect(single("\n").0 == Int32(CGF_EPARSE))
        #expect(single("12abc\n").0 == Int32(CGF_EPARSE))
        #expect(single("-1\n").0 == Int32(CGF_EPARSE))
        #expect(single("max\n").0 == Int32(CGF_EPARSE))
        #expect(single("max\n", allowMax: true) == (Int32(CGF_OK), UInt64.max))
        #expect(single("7") == (Int32(CGF_OK), 7))
    }

    func keyed(_ text: String) -> (Int32, [String: UInt64]) {
        let list = UnsafeMutablePointer<cgf_kv_list>.allocate(capacity: 1)
        defer { list.deallocate() }
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cgf_parse_flat_keyed($0.baseAddress, $0.count, list) }
        }
        var out: [String: UInt64] = [:]
        let items = cgf_kv_items(list)
        for i in 0..<Int(list.pointee.count) { out[String(cString: cgf_kv_key(items + i))] = items[i].value }
        return (rc, out)
    }

    @Test func flatKeyed() {
        #expect(keyed("a 1\nb 2\n") == (Int32(CGF_OK), ["a": 1, "b": 2]))
        #expect(keyed("") == (Int32(CGF_OK), [:]))
        #expect(keyed("a 1\nb 2").0 == Int32(CGF_EPARSE), "a last line without newline is truncated")
        #expect(keyed("a\n").0 == Int32(CGF_EPARSE), "a key without a value")
        #expect(keyed("a x\n").0 == Int32(CGF_EPARSE))
        #expect(keyed("a 18446744073709551616\n").0 == Int32(CGF_ERANGE))
        #expect(keyed(" 1\n").0 == Int32(CGF_EPARSE))
    }

    @Test func flatKeyedDropsWhatDoesNotFit() {
        let long = String(repeating: "k", count: Int(CGF_KEY_MAX))
        let many = (0..<300).map { "key\($0) \($0)\n" }.joined()
        let list = UnsafeMutablePointer<cgf_kv_list>.allocate(capacity: 1)
        defer { list.deallocate() }
        for (text, kept, dropped) in [("\(long) 1\nok 2\n", 1, 1), (many, Int(CGF_MAX_KV), 300 - Int(CGF_MAX_KV))] {
            let bytes = Array(text.utf8)
            let rc = bytes.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { cgf_parse_flat_keyed($0.baseAddress, $0.count, list) }
            }
            #expect(rc == Int32(CGF_OK))
            #expect(Int(list.pointee.count) == kept)
            #expect(Int(list.pointee.dropped) == dropped)
        }
    }

    func pressure(_ text: String) -> (Int32, cgf_psi) {
        var psi = cgf_psi()
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) { cgf_parse_pressure($0.baseAddress, $0.count, &psi) }
        }
        return (rc, psi)
    }

    @Test func pressureLines() {
        let (rc, psi) = pressure("some avg10=1.04 avg60=0.5 avg300=12.345 total=99\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=1\n")
        #expect(rc == Int32(CGF_OK))
        #expect(psi.some.avg10_x100 == 104)
        #expect(psi.some.avg60_x100 == 50)
        #expect(psi.some.avg300_x100 == 1234)
        #expect(psi.some.total_us == 99)
        #expect(psi.has_full == 1 && psi.full.total_us == 1)
        #expect(pressure("some avg10=1.04 avg60=0.5 avg300=1 total=9\n").1.has_full == 0)
        #expect(pressure("some avg10=x avg60=0 avg300=0 total=0\n").0 == Int32(CGF_EPARSE))
        #expect(pressure("some avg10=1 avg60=0 total=0\n").0 == Int32(CGF_EPARSE), "a missing key")
        #expect(pressure("other avg10=1\n").0 == Int32(CGF_EPARSE))
        #expect(pressure("some avg10=1.00 avg60=0.00 avg300=0.00 total=5").0 == Int32(CGF_EPARSE))
    }

    func table(_ text: String, blkio: Bool) -> (Int32, cgf_io_table) {
        let t = UnsafeMutablePointer<cgf_io_table>.allocate(capacity: 1)
        defer { t.deallocate() }
        let bytes = Array(text.utf8)
        let rc = bytes.withUnsafeBufferPointer { b in
            b.withMemoryRebound(to: CChar.self) {
                blkio ? cgf_parse_blkio($0.baseAddress, $0.count, t) : cgf_parse_io_stat($0.baseAddress, $0.count, t)
            }
        }
        return (rc, t.pointee)
    }

    @Test func blkioTables() {
        let (rc, t) = table("8:0 Read 10\n8:0 Write 20\n8:16 Read 1\nTotal 31\n", blkio: true)
        #expect(rc == Int32(CGF_OK))
        #expect(t.count == 2)
        #expect(t.devices.0.major == 8 && t.devices.0.minor == 0 && t.devices.0.value.0 == 10 && t.devices.0.value.1 == 20)
        #expect(t.devices.1.minor == 16 && t.devices.1.present == 1)
        #expect(table("Total 0\n", blkio: true).1.count == 0)
        #expect(table("8:0 Read\n", blkio: true).0 == Int32(CGF_EPARSE))
        #expect(table("8:0 Bogus 1\n", blkio: true).0 == Int32(CGF_EPARSE))
        #expect(table("8-0 Read 1\n", blkio: true).0 == Int32(CGF_EPARSE))
        #expect(table("4294967296:0 Read 1\n", blkio: true).0 == Int32(CGF_ERANGE))
        let many = (0..<70).map { "8:\($0) Read 1\n" }.joined()
        let (rcMany, tMany) = table(many, blkio: true)
        #expect(rcMany == Int32(CGF_EOVERFLOW) && Int(tMany.count) == Int(CGF_MAX_DEVICES) && tMany.dropped == 6)
    }

    @Test func ioStat() {
        let (rc, t) = table("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6 cost.usage=7 newkey=9\n", blkio: false)
        #expect(rc == Int32(CGF_OK))
        #expect(t.count == 1 && t.devices.0.value.0 == 1 && t.devices.0.value.3 == 4 && t.devices.0.value.6 == 7)
        #expect(t.devices.0.present == 0b1111111)
        #expect(table("8:0 rbytes=1", blkio: false).0 == Int32(CGF_EPARSE))
        #expect(table("8:0 rbytes\n", blkio: false).0 == Int32(CGF_EPARSE))
        #expect(table("", blkio: false) .0 == Int32(CGF_OK))
    }

    @Test func weightToShares() {
        #expect(cgf_cpu_weight_to_shares(1) == 2)
        #expect(cgf_cpu_weight_to_shares(100) == 2597)
        #expect(cgf_cpu_weight_to_shares(10000) == 262144)
    }

    @Test func hugepageNames() {
        var buf = [CChar](repeating: 0, count: 16)
        for (kb, name) in [(UInt64(2048), "2MB"), (1_048_576, "1GB"), (64, "64KB"), (32768, "32MB")] {
            #expect(cgf_hugepage_name(kb, &buf, 16) == Int32(CGF_OK))
            #expect(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == name)
        }
    }
}
