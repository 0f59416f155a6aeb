import Foundation
import Testing
@testable import NodeMetrics

/// The storage drivers' buffer and sender (issue 14) without a backend: ordering, dropping, backoff,
/// the shutdown flush; and the driver registry's handling of `-storage_driver`.
@Suite struct StorageBufferTests {
    /// A driver that records what it is given and refuses writes while `down` (the backend a test
    /// switches off and on).
    final class RecordingDriver: StorageDriver, @unchecked Sendable {
        let name = "recording"
        private let lock = NSLock()
        private var _received: [Int64] = []
        private var _down = false
        private var _attempts = 0
        private var _closed = false
        var delay: useconds_t = 0

        var received: [Int64] { lock.withLock { _received } }
        var attempts: Int { lock.withLock { _attempts } }
        var closed: Bool { lock.withLock { _closed } }
        var down: Bool {
            get { lock.withLock { _down } }
            set { lock.withLock { _down = newValue } }
        }

        func write(_ batch: [StoredSample]) throws {
            if delay > 0 { usleep(delay) }
            try lock.withLock {
                _attempts += 1
                if _down { throw StorageWriteError("backend down") }
                _received += batch.map(\.sample.timestampNanos)
            }
        }

        func close() { lock.withLock { _closed = true } }
    }

    static func sample(_ t: Int64, name: String = "/a") -> StoredSample {
        var s = ContainerSample()
        s.timestampNanos = t
        return StoredSample(containerName: name, metadata: ContainerMetadata(), sample: s)
    }

    static func fastPolicy() -> StorageBufferPolicy {
        var p = StorageBufferPolicy()
        p.flushInterval = .milliseconds(50)
        p.initialBackoff = .milliseconds(20)
        p.maxBackoff = .milliseconds(100)
        return p
    }

    static func status(_ b: StorageBackends) -> StorageDriverStatus { b.statuses[0] }

    @Test func samplesArriveOnceInOrder() throws {
        let driver = RecordingDriver()
        let backends = StorageBackends(drivers: [driver], policy: Self.fastPolicy())
        try backends.start()
        let now = Clocks.wallNanos()
        let times = (0..<500).map { now + Int64($0) }
        for t in times { backends.offer(Self.sample(t)) }
        #expect(eventually(5) { driver.received.count == 500 ? true : nil } != nil)
        #expect(driver.received == times)
        backends.close(grace: .seconds(1))
        #expect(driver.closed)
        let st = Self.status(backends)
        #expect(st.sent == 500 && st.dropped == 0 && st.buffered == 0 && st.sendErrors == 0)
    }

    @Test func aBackendThatComesBackGetsTheBufferedSamplesInOrder() throws {
        let driver = RecordingDriver()
        driver.down = true
        let backends = StorageBackends(drivers: [driver], policy: Self.fastPolicy())
        try backends.start()
        defer { backends.close(grace: .zero) }
        let now = Clocks.wallNanos()
        for i in 0..<100 { backends.offer(Self.sample(now + Int64(i))) }
        #expect(eventually(5) { driver.attempts >= 3 ? true : nil } != nil, "retried while down")
        #expect(driver.received.isEmpty)
        #expect(Self.status(backends).buffered == 100)
        #expect(Self.status(backends).sendErrors >= 3)
        #expect(Self.status(backends).lastError == "backend down")
        for i in 100..<150 { backends.offer(Self.sample(now + Int64(i))) }
        driver.down = false
        #expect(eventually(5) { driver.received.count == 150 ? true : nil } != nil)
        #expect(driver.received == (0..<150).map { now + Int64($0) })
        let st = Self.status(backends)
        #expect(st.sent == 150 && st.dropped == 0 && st.failingInARow == 0)
    }

    @Test func aFullBufferDropsTheOldestAndCountsThem() throws {
        let driver = RecordingDriver()
        driver.down = true
        var policy = Self.fastPolicy()
        policy.maxSamples = 10
        policy.maxBatch = 4
        let backends = StorageBackends(drivers: [driver], policy: policy)
        try backends.start()
        defer { backends.close(grace: .zero) }
        let now = Clocks.wallNanos()
        for i in 0..<25 { backends.offer(Self.sample(now + Int64(i))) }
        let st = Self.status(backends)
        #expect(st.buffered == 10 && st.dropped == 15, "\(st)")
        driver.down = false
        #expect(eventually(5) { driver.received.count == 10 ? true : nil } != nil)
        #expect(driver.received == (15..<25).map { now + Int64($0) }, "the newest ten, oldest first")
        #expect(Self.status(backends).dropped == 15)
    }

    @Test func samplesOlderThanTheBufferDurationAreDropped() throws {
        let driver = RecordingDriver()
        driver.down = true
        var policy = Self.fastPolicy()
        policy.maxAge = .seconds(2)
        let backends = StorageBackends(drivers: [driver], policy: policy)
        try backends.start()
        defer { backends.close(grace: .zero) }
        // Ages count from the offer (monotonic), not from the sample's wall-clock time.
        backends.offer(Self.sample(Clocks.wallNanos() - 10_000_000_000))
        Thread.sleep(forTimeInterval: 1)
        backends.offer(Self.sample(Clocks.wallNanos()))
        #expect(Self.status(backends).dropped == 0)
        #expect(Self.status(backends).buffered == 2)
        // Both age out, oldest first, while the backend stays down.
        #expect(eventually(6) { Self.status(backends).dropped == 1 ? true : nil } != nil)
        #expect(Self.status(backends).buffered == 1)
        #expect(eventually(6) { Self.status(backends).dropped == 2 ? true : nil } != nil)
        #expect(Self.status(backends).buffered == 0)
    }

    @Test func backoffDoublesUpToItsCap() {
        var p = StorageBufferPolicy()
        p.initialBackoff = .milliseconds(250)
        p.maxBackoff = .seconds(8)
        #expect(p.backoff(afterFailures: 0) == .zero)
        #expect(p.backoff(afterFailures: 1) == .milliseconds(250))
        #expect(p.backoff(afterFailures: 2) == .milliseconds(500))
        #expect(p.backoff(afterFailures: 3) == .seconds(1))
        #expect(p.backoff(afterFailures: 6) == .seconds(8))
        #expect(p.backoff(afterFailures: 7) == .seconds(8))
        #expect(p.backoff(afterFailures: 64) == .seconds(8))
        #expect(p.backoff(afterFailures: Int.max) == .seconds(8))
    }

    @Test func retriesWaitLongerEachTime() throws {
        let driver = RecordingDriver()
        driver.down = true
        var policy = Self.fastPolicy()
        policy.initialBackoff = .milliseconds(200)
        policy.maxBackoff = .milliseconds(400)
        let backends = StorageBackends(drivers: [driver], policy: policy)
        try backends.start()
        defer { backends.close(grace: .zero) }
        backends.offer(Self.sample(Clocks.wallNanos()))
        Thread.sleep(forTimeInterval: 2.1)
        // 0, +200, +400, +400, +400, +400 ms: about 6 attempts in 2.1 s, not one per flush interval (42).
        #expect((4...8).contains(driver.attempts), "\(driver.attempts) attempts")
    }

    /// The senders' sleep: a wait ends at its deadline, or at once when signalled (before or during
    /// it), one signal per wait.
    @Test func aSemaphoreWaitEndsAtItsDeadlineOrWhenSignalled() throws {
        let wake = Semaphore()
        var started = Clocks.monotonicNanos()
        #expect(!wake.wait(untilNanos: started + 100_000_000))
        #expect(Clocks.monotonicNanos() - started >= 100_000_000)
        wake.signal()
        started = Clocks.monotonicNanos()
        #expect(wake.wait(untilNanos: started + 5_000_000_000), "a signal given before the wait counts")
        #expect(!wake.wait(timeoutMs: 10), "one signal wakes one wait")
        let signaller = try BackgroundThread(name: "test-signal") { usleep(100_000); wake.signal() }
        started = Clocks.monotonicNanos()
        #expect(wake.wait(untilNanos: started + 5_000_000_000))
        #expect(Clocks.monotonicNanos() - started < 3_000_000_000, "woken by the signal, not the deadline")
        signaller.join()
        #expect(!wake.wait(untilNanos: 0), "a deadline in the past returns at once")
    }

    @Test func closeSendsWhatIsBufferedWithinTheGrace() throws {
        let driver = RecordingDriver()
        var policy = Self.fastPolicy()
        policy.flushInterval = .seconds(60) // nothing is sent before the shutdown
        policy.maxBatch = 10
        let backends = StorageBackends(drivers: [driver], policy: policy)
        try backends.start()
        Thread.sleep(forTimeInterval: 0.2)
        let now = Clocks.wallNanos()
        for i in 0..<95 { backends.offer(Self.sample(now + Int64(i))) }
        let started = Date()
        backends.close(grace: .seconds(3))
        #expect(Date().timeIntervalSince(started) < 2)
        #expect(driver.received.count == 95)
        #expect(driver.closed)
    }

    @Test func closeGivesUpOnADownBackendAfterTheGrace() throws {
        let driver = RecordingDriver()
        driver.down = true
        let backends = StorageBackends(drivers: [driver], policy: Self.fastPolicy())
        try backends.start()
        backends.offer(Self.sample(Clocks.wallNanos()))
        let started = Date()
        backends.close(grace: .seconds(1))
        let took = Date().timeIntervalSince(started)
        #expect(took >= 0.8 && took < 3.5, "\(took) s")
        #expect(driver.closed)
        #expect(Self.status(backends).dropped == 1, "the unsent sample is counted")
    }

    @Test func offeringNeverWaitsOnASlowBackend() throws {
        let driver = RecordingDriver()
        driver.delay = 2_000_000 // every write takes 2 s
        let backends = StorageBackends(drivers: [driver], policy: Self.fastPolicy())
        try backends.start()
        defer { backends.close(grace: .zero) }
        backends.offer(Self.sample(Clocks.wallNanos()))
        Thread.sleep(forTimeInterval: 0.2) // the sender is inside write now
        let started = Date()
        for i in 0..<10_000 { backends.offer(Self.sample(Clocks.wallNanos() + Int64(i))) }
        #expect(Date().timeIntervalSince(started) < 1)
    }

    // MARK: -storage_driver

    @Test func theListIsSplitLikeCAdvisors() {
        #expect(StorageDriverRegistry.names("") == [])
        #expect(StorageDriverRegistry.names("stdout") == ["stdout"])
        #expect(StorageDriverRegistry.names("stdout,,statsd,") == ["stdout", "statsd"])
        #expect(StorageDriverRegistry.names("influxdb, kafka") == ["influxdb", " kafka"])
        #expect(StorageDriverRegistry.names("stdout,stdout") == ["stdout", "stdout"])
    }

    @Test func unknownAndUnbuiltDriversAreClearErrors() {
        let options = StorageOptions()
        #expect(throws: StorageConfigurationError.self) { try StorageDriverRegistry.make("influx", options: options) }
        do {
            _ = try StorageDriverRegistry.make("stdout, kafka", options: options)
            Issue.record("accepted \" kafka\"")
        } catch {
            #expect(error.description.contains("\" kafka\""), "\(error)")
        }
        // kafka, elasticsearch and bigquery check their flags (PushDriverTests, BigQueryDriverTests).
        var half = StorageOptions()
        half.kafkaSSLCert = "/nonexistent/cert.pem"
        half.esHost = "localhost:9200"
        for (name, expected) in [("kafka", "_ssl_key"), ("elasticsearch", "not an http"), ("bigquery", "-bq_project_id is required")] {
            do {
                _ = try StorageDriverRegistry.make(name, options: half)
                Issue.record("\(name) built")
            } catch {
                #expect(error.description.contains(expected) && error.description.contains(name), "\(error)")
            }
        }
        var bad = StorageOptions()
        bad.host = "localhost"
        for name in ["influxdb", "redis", "statsd"] {
            do {
                _ = try StorageDriverRegistry.make(name, options: bad)
                Issue.record("\(name) took a host without a port")
            } catch {
                #expect(error.description.contains("-storage_driver_host=localhost") && error.description.contains(name), "\(error)")
            }
        }
    }

    @Test func aRepeatedDriverIsASecondInstance() throws {
        var options = StorageOptions()
        options.host = "127.0.0.1:9"
        let drivers = try StorageDriverRegistry.make("stdout,statsd,stdout", options: options)
        #expect(drivers.map(\.name) == ["stdout", "statsd", "stdout"])
        let backends = StorageBackends(drivers: drivers, policy: StorageBufferPolicy())
        #expect(backends.statuses.map(\.name) == ["stdout", "statsd", "stdout#2"])
        drivers.forEach { $0.close() }
    }

    // MARK: formats

    static func fullSample() -> StoredSample {
        var s = ContainerSample()
        s.timestampNanos = 1_583_064_000_123_456_789
        s.cpu.usage.total = 5_000_000_000
        s.cpu.usage.perCPU = [3_000_000_000, 2_000_000_000]
        s.cpu.usage.user = 4_000_000_000
        s.cpu.usage.system = 1_000_000_000
        s.memory.usage = 104_857_600
        s.memory.workingSet = 83_886_080
        s.memory.rss = 50_000_000
        s.memory.mappedFile = 1_000
        s.network = [NetInterfaceStats(name: "eth0", rxBytes: 123_456, rxPackets: 1, rxErrors: 0, rxDropped: 0,
                                       txBytes: 654_321, txPackets: 1, txErrors: 1, txDropped: 0)]
        var fs = FilesystemStats(device: "/dev/sda1", type: "vfs")
        fs.capacity = 10_737_418_240
        fs.usage = 2_147_483_648
        s.filesystems = [fs]
        var m = ContainerMetadata()
        m.aliases = ["abc", "0123"]
        return StoredSample(containerName: "/docker/0123", metadata: m, sample: s)
    }

    @Test func stdoutLineHasCAdvisorsKeys() {
        let line = StdoutDriver.line(Self.fullSample(), host: "localhost:8086", now: 42)
        #expect(line == "cName=abc host=localhost:8086 timestamp=42 cpu_cumulative_usage=5000000000 memory_usage=104857600 memory_working_set=83886080 rx_bytes=123456 rx_errors=0 tx_bytes=654321 tx_errors=1 /dev/sda1.fs_limit=10737418240 /dev/sda1.fs_usage=2147483648 fs_summary.fs_limit=10737418240 fs_summary.fs_usage=2147483648")
    }

    @Test func statsdDatagramsAreCAdvisorsGauges() {
        let d = StatsdDriver.datagrams(Self.fullSample(), prefix: "cadvisor")
        #expect(d.contains("cadvisor.abc.cpu_cumulative_usage:5000000000|g"))
        #expect(d.contains("cadvisor.abc.cpu_usage_user:4000000000|g"))
        #expect(d.contains("cadvisor.abc.cpu_load_average:0|g"))
        #expect(d.contains("cadvisor.abc.memory_rss:50000000|g"))
        #expect(d.contains("cadvisor.abc./dev/sda1.fs_usage:2147483648|g"))
        #expect(d.contains("cadvisor.abc.fs_summary.fs_limit:10737418240|g"))
        #expect(!d.contains { $0.contains("timestamp") })
        #expect(d.count == 16)
        let packed = StatsdDriver.datagrams(Self.fullSample(), prefix: "cadvisor", packetSize: StorageOptions.defaultStatsdPacketSize)
        #expect(packed == [d.joined(separator: "\n")])
    }

    @Test func influxPointsAreCAdvisorsLineProtocol() {
        let body = InfluxDBDriver.points(Self.fullSample(), machine: "node1")
        let lines = body.split(separator: "\n").map(String.init)
        #expect(lines.contains("cpu_usage_total,container_name=abc,machine=node1 value=5000000000i 1583064000123456789"))
        #expect(lines.contains("cpu_usage_per_cpu,container_name=abc,instance=1,machine=node1 value=2000000000i 1583064000123456789"))
        #expect(lines.contains("fs_usage,container_name=abc,device=/dev/sda1,machine=node1,type=usage value=2147483648i 1583064000123456789"))
        #expect(lines.contains("fs_limit,container_name=abc,device=/dev/sda1,machine=node1,type=limit value=10737418240i 1583064000123456789"))
        #expect(lines.contains("load_average,container_name=abc,machine=node1 value=0i 1583064000123456789"))
        #expect(lines.count == 14)
        #expect(InfluxDBDriver.point("m", [("container_name", "a b,c=d"), ("machine", "")], UInt64.max, 1)
                == "m,container_name=a\\ b\\,c\\=d value=9223372036854775807i 1\n")
        #expect(InfluxDBDriver.queryEscape("my db&x") == "my%20db%26x")
    }

    @Test func redisDocumentIsCAdvisorsJSON() throws {
        let doc = RedisDriver.document(Self.fullSample(), machine: "node1")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(doc)) as? [String: Any])
        #expect(json["timestamp"] as? Int == 1_583_064_000_123_456)
        #expect(json["machine_name"] as? String == "node1")
        #expect(json["container_Name"] as? String == "abc")
        let stats = try #require(json["container_stats"] as? [String: Any])
        #expect(stats["timestamp"] as? String == "2020-03-01T12:00:00.123456789Z")
        let cpu = try #require(stats["cpu"] as? [String: Any]), usage = try #require(cpu["usage"] as? [String: Any])
        #expect(usage["total"] as? Int == 5_000_000_000)
        #expect(String(decoding: doc, as: UTF8.self).hasPrefix("{\"timestamp\":1583064000123456,\"machine_name\":\"node1\",\"container_Name\":\"abc\",\"container_stats\":{\"timestamp\":"))
    }
}
