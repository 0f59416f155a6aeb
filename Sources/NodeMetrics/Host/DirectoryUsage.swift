#if canImport(Glibc)
import Glibc
#endif

/// What a host directory uses, read as the kubelet reads it: the filesystem holding it from
/// statvfs(2), its own bytes and inodes from a walk (`du`), and the writable layer of a process's
/// root filesystem from its mountinfo. Every path is a path the agent sees (already under `-root`).
enum DirectoryUsage {
    /// statvfs of the filesystem holding `path`: capacity, available, inodes and free inodes; nil
    /// when it cannot be asked.
    static func filesystem(_ path: String, timeNanos: Int64) -> FsUsage? {
        var st = statvfs()
        guard statvfs(path, &st) == 0 else { return nil }
        let block = UInt64(st.f_frsize)
        return FsUsage(timeNanos: timeNanos, capacityBytes: UInt64(st.f_blocks).saturatingMultiply(block),
                       availableBytes: UInt64(st.f_bavail).saturatingMultiply(block),
                       inodes: UInt64(st.f_files), inodesFree: UInt64(st.f_ffree))
    }

    /// The filesystem holding `path` and what `path` itself uses (`du -s -B1`, `du -s --inodes`);
    /// nil when `path` cannot be read.
    static func measure(_ path: String) -> FsUsage? {
        let now = Clocks.wallNanos()
        guard var fs = filesystem(path, timeNanos: now), let walked = LayerUsage.usage(of: path) else { return nil }
        fs.usedBytes = walked.bytes
        fs.inodesUsed = walked.inodes
        return fs
    }

    /// The upper (writable) directory of the overlay mounted at `/` in process `pid`'s mount
    /// namespace (containerd's overlayfs snapshotter, CRI-O's and Podman's overlay driver), as a
    /// host path; nil when that root is not an overlay or the process is gone.
    static func writableLayer(pid: Int32, paths: HostPaths) -> String? {
        guard pid > 0, let text = HostFiles.read(paths.path("/proc/\(pid)/mountinfo")),
              let mounts = try? MountInfo.parse(text) else { return nil }
        // The last mount at `/` is the one the process sees.
        guard let root = mounts.last(where: { $0.mountPoint == "/" }), root.fsType == "overlay" else { return nil }
        for option in root.superOptions where option.hasPrefix("upperdir=") {
            let dir = String(option.dropFirst("upperdir=".count))
            return dir.hasPrefix("/") ? dir : nil
        }
        return nil
    }
}
