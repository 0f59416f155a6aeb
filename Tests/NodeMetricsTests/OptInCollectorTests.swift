import Foundation
import Testing
@testable import NodeMetrics

/// cAdvisor's off-by-default collectors: sched, referenced_memory, advtcp, memory_numa, cpuset.
extension InotifyUsers {
@Suite struct OptInCollectorTests {
    @Test func schedstatAndSmapsText() {
        let s = ContainerProcfs.parseSchedstat("1234567 89 42\n")
        #expect(s?.runTime == 1_234_567 && s?.runqueueTime == 89 && s?.runPeriods == 42)
        #expect(ContainerProcfs.parseSchedstat("12 x 3") == nil)
        #expect(ContainerProcfs.parseSchedstat("") == nil)
        let smaps = """
            55d0c0000000-55d0c0021000 r--p 00000000 fe:01 1234 /usr/bin/sleep
            Size:                132 kB
            Referenced:          120 kB
            Anonymous:             0 kB
            7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0 [stack]
            Referenced:            8 kB
            """
        #expect(ContainerProcfs.referencedBytes(smaps: smaps) == 128 * 1024)
        #expect(ContainerProcfs.referencedBytes(smaps: "Referenced: lots kB") == 0)
    }

    @Test func exitedAndReusedThreadsKeepCounting() {
        func stat(_ run: UInt64, _ periods: UInt64) -> CPUSchedstat {
            var s = CPUSchedstat()
            s.runTime = run
            s.runqueueTime = run / 10
            s.runPeriods = periods
            return s
        }
        var acc = SchedstatAccumulator()
        #expect(acc.update([10: stat(100, 5), 11: stat(50, 2)]).runTime == 150)
        #expect(acc.update([10: stat(300, 9)]).runTime == 350, "thread 11 exited: its 50 ns stay")
        let reused = acc.update([10: stat(20, 1)]) // id 10 reused by a new thread
        #expect(reused.runTime == 370 && reused.runPeriods == 12)
    }

    @Test func advancedTCPFromSnmpAndNetstat() {
        let snmp = """
            Ip: Forwarding DefaultTTL InReceives
            Ip: 1 64 1740423
            Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
            Tcp: 1 200 120000 -1 5611 2761 17 101 6 1620040 1779310 312 0 433 0
            Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
            Udp: 7193 0 0 7201 0 0 9 0 0
            """
        let netstat = """
            TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled TW DelayedACKs ListenDrops TCPNewKey
            TcpExt: 0 0 0 0 0 2290 4471 3 77
            IpExt: InNoRoutes InTruncatedPkts InOctets
            IpExt: 0 0 1234567
            """
        let a = ContainerProcfs.tcpAdvanced(snmp: snmp, netstat: netstat)
        func v(_ name: String) -> Double { a.value(at: TCPAdvancedStats.fields.firstIndex(of: name)!) }
        #expect(v("MaxConn") == -1, "signed, as cAdvisor's int64 field")
        #expect(v("RtoMax") == 120_000 && v("ActiveOpens") == 5611 && v("CurrEstab") == 6 && v("OutRsts") == 433)
        #expect(v("InCsumErrors") == 0, "Tcp's InCsumErrors, not Udp's")
        #expect(v("TW") == 2290 && v("DelayedACKs") == 4471 && v("ListenDrops") == 3)
        #expect(v("TCPTimeouts") == 0, "a field the kernel lacks stays 0")
        #expect(TCPAdvancedStats.fields.count == Set(TCPAdvancedStats.fields).count)
    }

    @Test func numaStatText() {
        let numa = ContainerProcfs.numaStat("""
            total=3013 N0=3013 N1=0
            file=33 N0=30 N1=3
            anon=374 N0=374 N1=0
            unevictable=2606 N0=2606 N1=0
            hierarchical_total=232620 N0=232620 N1=0
            hierarchical_file=229181 N0=229181 N1=0
            hierarchical_anon=833 N0=800 N1=33
            hierarchical_unevictable=2606 N0=2606 N1=0
            """)
        #expect(numa.container.file == [30, 3] && numa.container.anon == [374, 0] && numa.container.unevictable == [2606, 0])
        #expect(numa.hierarchical.anon == [800, 33] && numa.hierarchical.file == [229_181, 0])
        #expect(ContainerProcfs.numaStat("garbage\nfile=x Nq=3") == NumaMemory())
    }

    /// A live cgroup with a busy process, every opt-in kind on: figures move and reach JSON and /metrics.
    @Test func liveCollectorsReachJSONAndMetrics() throws {
        var c = ManagerConfiguration()
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
        c.metricKinds = MetricKinds(enabled: [.cpu, .memory, .sched, .referencedMemory, .advtcp, .memoryNuma, .cpuset])
        c.referencedResetInterval = 5
        let manager = try ContainerManager(configuration: c)
        manager.start()
        defer { manager.stop() }
        let cg = try LiveCgroup(layout: manager.layout)
        defer { cg.destroy() }
        if manager.layout.mountPoints[.cpuset] != nil { try cg.set(.cpuset, "cpuset.memory_migrate", "1") }
        try cg.run("head -c 20000000 /dev/zero | tail -c 1 >/dev/null; while :; do :; done")
        let deadline = Date().addingTimeInterval(15 * TestTiming.slowdown)
        var first: ContainerSample?, last: ContainerSample?
        repeat {
            usleep(100_000)
            let samples = manager.store.snapshot(cg.name)?.samples ?? []
            first = samples.first
            last = samples.last
        } while !(last.map { $0.schedstat.runTime > (first?.schedstat.runTime ?? 0) && $0.referencedBytes > 0 } ?? false)
            && Date() < deadline
        let s = try #require(last)
        #expect(s.schedstat.runTime > 0 && s.schedstat.runPeriods > 0, "a busy loop runs")
        #expect(s.schedstat.runTime > first!.schedstat.runTime, "and keeps running")
        #expect(s.referencedBytes > 0)
        if manager.layout.mode != .v2 {
            #expect(!s.numa.hierarchical.file.isEmpty || !s.numa.hierarchical.anon.isEmpty, "memory.numa_stat of v1")
            #expect(s.memoryMigrate == 1)
        } else {
            #expect(s.memoryMigrate == 0, "v2 has no cpuset.memory_migrate (cAdvisor: 0)")
        }
        let root = try #require(manager.store.latest("/"))
        #expect(root.connections?.advanced != nil)

        let json = CAdvisorV1Stats.json(s)
        #expect(json.contains(#""schedstat":{"run_time":\#(s.schedstat.runTime),"#))
        #expect(json.contains(#""referenced_memory":\#(s.referencedBytes)"#))
        #expect(json.contains(#""cpuset":{"memory_migrate":\#(s.memoryMigrate)}"#))
        #expect(CAdvisorV1Stats.json(root).contains(#""tcp_advanced":{"RtoAlgorithm":"#))

        let exporter = PrometheusExporter(manager: manager, configuration: MetricsConfiguration())
        let text = String(decoding: exporter.scrape(), as: UTF8.self)
        for family in ["container_cpu_schedstat_run_seconds_total", "container_cpu_schedstat_runqueue_seconds_total",
                       "container_cpu_schedstat_run_periods_total", "container_referenced_bytes", "container_memory_migrate",
                       "container_network_advance_tcp_stats_total"] {
            #expect(text.contains("# TYPE \(family) "), "\(family) exported")
        }
        #expect(text.contains(#"container_network_advance_tcp_stats_total{id="/",image="",name="",tcp_state="maxconn"} -1"#))
        // memory.numa_stat: read on v1; on v2 cAdvisor does not parse it, and neither does the agent.
        let numaSeries = #"container_memory_numa_pages{id="\#(cg.name)",image="",name="",node="0",scope="hierarchy",type="anon"}"#
        #expect(text.contains(numaSeries) == HostCgroups.hasV1Controllers, "numa pages on v1 only")
    }
}
}
