/// Names of block devices by number ("8:0" -> "sda"), from /sys/dev/block/<major>:<minor>/uevent.
/// Looked up once per device and cached. Not thread-safe.
public final class BlockDevices {
    let paths: HostPaths
    private var cache: [UInt64: String] = [:]

    public init(paths: HostPaths) { self.paths = paths }

    /// The device's kernel name, or "" when the kernel does not know the number.
    public func name(major: UInt32, minor: UInt32) -> String {
        let key = UInt64(major) << 32 | UInt64(minor)
        if let known = cache[key] { return known }
        let uevent = HostFiles.read(paths.path("/sys/dev/block/\(major):\(minor)/uevent")) ?? ""
        let name = uevent.split(separator: "\n").first { $0.hasPrefix("DEVNAME=") }
            .map { String($0.dropFirst("DEVNAME=".count)) } ?? ""
        cache[key] = name
        return name
    }
}
