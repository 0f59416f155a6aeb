import CCgroupFast

/// The host's machine id and boot id, as MachineInfo and the `machine_*` metric labels carry them.
public struct SystemIdentity: Sendable, Equatable {
    public var machineID: String
    public var bootID: String

    /// Reads both ids. On the host (root `/`) libsystemd's sd_id128 is asked first; inside a
    /// container it would read the container's own /etc/machine-id, so there the host's files
    /// under the root prefix come first. cAdvisor's fallbacks follow: /etc/machine-id,
    /// /var/lib/dbus/machine-id, /proc/sys/kernel/random/boot_id. A missing id is "".
    public static func read(paths: HostPaths) -> SystemIdentity {
        let machineFiles = ["/etc/machine-id", "/var/lib/dbus/machine-id"].map(paths.path)
        let bootFiles = [paths.path("/proc/sys/kernel/random/boot_id")]
        let machine = paths.isHostRoot
            ? (fromSystemd(cgf_machine_id) ?? firstID(in: machineFiles))
            : (firstID(in: machineFiles) ?? fromSystemd(cgf_machine_id))
        let boot = fromSystemd(cgf_boot_id).map(dashed) ?? HostFiles.firstLine(bootFiles[0])
        return SystemIdentity(machineID: machine ?? "", bootID: boot ?? "")
    }

    /// The system UUID by cAdvisor's chain (sysfs GetSystemUUID): the DMI product UUID, then the
    /// device tree's `system-id` and `vm,uuid` (POWER), then /etc/machine-id (s390x, and any host
    /// without DMI). Device-tree values end in a NUL, which is dropped. "" when none can be read.
    public static func systemUUID(paths: HostPaths) -> String {
        for file in ["/sys/class/dmi/id/product_uuid", "/proc/device-tree/system-id", "/proc/device-tree/vm,uuid",
                     "/etc/machine-id"] {
            guard let line = HostFiles.firstLine(paths.path(file)) else { continue }
            let value = String(line.prefix { $0 != "\0" }).trimmed
            if !value.isEmpty { return value }
        }
        return ""
    }

    /// Calls an sd_id128 getter; nil when libsystemd reports an error.
    static func fromSystemd(_ get: (UnsafeMutablePointer<CChar>) -> Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 33)
        let rc = get(&buffer)
        guard rc == 0 else { return nil }
        return String(decoding: buffer.prefix(32).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The first file whose first line is an id.
    static func firstID(in files: [String]) -> String? {
        files.lazy.compactMap(HostFiles.firstLine).first { $0 != "uninitialized" }
    }

    /// 32 hex digits in the 8-4-4-4-12 form of /proc/sys/kernel/random/boot_id.
    static func dashed(_ hex: String) -> String {
        let c = Array(hex)
        guard c.count == 32 else { return hex }
        return [c[0..<8], c[8..<12], c[12..<16], c[16..<20], c[20..<32]].map { String($0) }.joined(separator: "-")
    }
}
