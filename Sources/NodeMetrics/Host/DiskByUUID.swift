#if canImport(Glibc)
import Glibc
#endif

/// Filesystems by UUID, as udev links them under /dev/disk/by-uuid.
public enum DiskByUUID {
    /// Whether `uuid` can name a link in /dev/disk/by-uuid: one plain path component (not empty,
    /// not "." or "..", no "/", no NUL), at most 255 bytes.
    public static func isPlainName(_ uuid: String) -> Bool {
        !uuid.isEmpty && uuid.utf8.count <= 255 && uuid != "." && uuid != ".."
            && !uuid.utf8.contains(UInt8(ascii: "/")) && !uuid.utf8.contains(0)
    }

    /// The device the filesystem with this UUID is on ("/dev/sda1": the link target's last
    /// component), or nil when `uuid` is not a plain name, there is no such link, or the link's
    /// target has no last component (a link to "/" or "").
    public static func device(uuid: String, paths: HostPaths) -> String? {
        guard isPlainName(uuid) else { return nil }
        var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink(paths.path("/dev/disk/by-uuid/" + uuid), &target, target.count - 1)
        guard n > 0, n < target.count else { return nil }
        let text = String(decoding: target[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let last = text.split(separator: "/").last, last != "..", last != "." else { return nil }
        return "/dev/" + last
    }
}
