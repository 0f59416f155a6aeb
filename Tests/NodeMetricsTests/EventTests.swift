import Foundation
import Testing
@testable import NodeMetrics

@Suite struct EventTests {
    @Test func retentionPerTypeByCountAndAge() {
        let store = EventStore(retention: EventRetention(defaultAge: .seconds(100), defaultCount: 3,
                                                         ages: [.oom: .seconds(10)], counts: [.containerDeletion: 0]))
        let s: Int64 = 1_000_000_000
        for t in 1...5 { store.add(ContainerEvent(containerName: "/a", timestampNanos: Int64(t) * s, type: .containerCreation)) }
        store.add(ContainerEvent(containerName: "/a", timestampNanos: 1 * s, type: .oom))
        store.add(ContainerEvent(containerName: "/a", timestampNanos: 20 * s, type: .oom))
        store.add(ContainerEvent(containerName: "/a", timestampNanos: 20 * s, type: .containerDeletion))
        var f = EventFilter()
        f.maxEvents = nil
        let all = store.query(f)
        #expect(all.filter { $0.type == .containerCreation }.map(\.timestampNanos) == [3, 4, 5].map { $0 * s })
        #expect(all.filter { $0.type == .oom }.map(\.timestampNanos) == [20 * s], "older than 10 s dropped")
        #expect(!all.contains { $0.type == .containerDeletion }, "a limit of 0 keeps none")
        f.maxEvents = 2
        #expect(store.query(f).count == 2)
        f.containerName = "/b"
        #expect(store.query(f).isEmpty)
    }

    @Test func subscribersReceiveMatchingEvents() async {
        let store = EventStore()
        var f = EventFilter()
        f.types = [.oomKill]
        f.containerName = "/pod"
        let stream = store.subscribe(f)
        #expect(store.subscriberCount == 1)
        store.add(ContainerEvent(containerName: "/other", timestampNanos: 1, type: .oomKill))
        store.add(ContainerEvent(containerName: "/pod/c", timestampNanos: 2, type: .oom))
        store.add(ContainerEvent(containerName: "/pod/c", timestampNanos: 3, type: .oomKill, pid: 9, processName: "x"))
        var it = stream.makeAsyncIterator()
        let first = await it.next()
        #expect(first?.timestampNanos == 3 && first?.pid == 9)
    }

    @Test func oomLinesOfTheNewerKernels() {
        var p = OOMParser()
        let lines = [
            "stress invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
            "CPU: 1 PID: 1234 Comm: stress Not tainted 6.1.0 #1",
            "memory: usage 20480kB, limit 20480kB, failcnt 30",
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/kubepods/pod1,task_memcg=/kubepods/pod1/ctr,task=stress,pid=1234,uid=0",
            "Memory cgroup out of memory: Killed process 1234 (stress) total-vm:100kB, anon-rss:20000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:80kB oom_score_adj:0",
        ]
        var result: OOMInstance?
        for l in lines { if let r = p.feed(Substring(l), timestampNanos: 42) { result = r } }
        #expect(result == OOMInstance(pid: 1234, processName: "stress", timestampNanos: 42, containerName: "/kubepods/pod1/ctr",
                                      victimContainerName: "/kubepods/pod1", constraint: "CONSTRAINT_MEMCG"))
    }

    @Test func oomLinesOfOlderKernels() {
        var p = OOMParser()
        let lines = [
            "ruby invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0",
            "Task in /mem2 killed as a result of limit of /mem3",
            "Killed process 19667 (evil-program2) total-vm:1460016kB, anon-rss:1414008kB, file-rss:4kB",
        ]
        var result: OOMInstance?
        for l in lines { if let r = p.feed(Substring(l), timestampNanos: 1) { result = r } }
        #expect(result?.containerName == "/mem2" && result?.victimContainerName == "/mem3")
        #expect(result?.pid == 19667 && result?.processName == "evil-program2")
        #expect(p.feed("Killed process 1 (init)", timestampNanos: 2) == nil, "no kill without invoked oom-killer")
    }

    @Test func kmsgRecords() {
        let r = KmsgRecord("6,1234,5678901,-;Killed process 1 (x)\n SUBSYSTEM=memory\n")
        #expect(r?.sequence == 1234 && r?.monotonicMicros == 5_678_901 && r?.message == "Killed process 1 (x)")
        #expect(KmsgRecord("garbage") == nil)
        #expect(KmsgRecord("6,x,1,-;m") == nil)
    }
}
