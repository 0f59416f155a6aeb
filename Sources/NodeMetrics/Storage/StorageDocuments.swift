#if canImport(Glibc)
import Glibc
#endif

/// The JSON documents cAdvisor's redis, elasticsearch and kafka drivers send, around the v1
/// `ContainerStats` (`CAdvisorV1Stats`, the encoder `/api/v1.3` uses).
public enum StorageDocuments {
    /// `os.Hostname()`: what cAdvisor's drivers call the machine.
    public static let machineName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// redis and elasticsearch: `{"timestamp":<sample time, µs>,"machine_name":…,"container_Name":…,
    /// "container_stats":{…}}`.
    public static func detailSpec(_ s: StoredSample, machine: String = machineName,
                                  deviceName: CAdvisorV1Stats.DeviceNamer = { _, _ in "" }) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("timestamp", s.sample.timestampNanos / 1000)
        w.field("machine_name", machine)
        w.field("container_Name", s.referenceName)
        w.key("container_stats")
        CAdvisorV1Stats.write(s.sample, to: &w, deviceName: deviceName)
        w.endObject()
        return w.bytes
    }

    /// kafka: `{"timestamp":<send time, RFC 3339 ns>,"machine_name":…,"container_Name":…,
    /// "container_Id":…(when known),"container_stats":{…}}`. The id is the runtime's (`Aliases`' id).
    public static func kafkaMessage(_ s: StoredSample, sendTimeNanos: Int64, machine: String = machineName,
                                    deviceName: CAdvisorV1Stats.DeviceNamer = { _, _ in "" }) -> [UInt8] {
        var w = JSONWriter(capacity: 4096)
        w.beginObject()
        w.field("timestamp", GoTime.rfc3339Nano(nanosSinceEpoch: sendTimeNanos))
        w.field("machine_name", machine)
        w.field("container_Name", s.referenceName)
        // ContainerReference.Id as /api/v1.3 writes it (CAdvisorV1Info.reference); omitted when empty.
        if !s.metadata.runtime.isEmpty, let id = s.metadata.aliases.last, !id.isEmpty { w.field("container_Id", id) }
        w.key("container_stats")
        CAdvisorV1Stats.write(s.sample, to: &w, deviceName: deviceName)
        w.endObject()
        return w.bytes
    }
}
