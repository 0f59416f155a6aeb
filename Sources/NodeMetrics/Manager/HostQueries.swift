/// What the APIs ask of the host on demand (not from the store): the process table and the
/// filesystems' usage now. These read /proc and call statvfs on the caller's thread, so the server
/// runs them off its event loop.
extension ContainerManager {
    /// `/api/v2.0/ps`: the processes of a container, read from /proc now ("/" is every process).
    public func processList(container name: String) throws -> [ProcessEntry] {
        let procfs = try Procfs(paths: configuration.paths)
        return ContainerProcfs(paths: configuration.paths).processList(container: name, procfs: procfs)
    }

    /// One mounted block filesystem's usage now, with where it is mounted.
    public struct MountedFilesystem: Sendable {
        public var usage: FilesystemStats
        public var mountPoint: String
    }

    /// `/api/v2.0/storage`: usage of the host's block filesystems (statvfs now, no disk counters).
    public func mountedFilesystems() -> [MountedFilesystem] {
        let mounted = machineInfo.filesystems
        return ContainerProcfs(paths: configuration.paths).filesystems(mounted, disks: []).map { usage in
            MountedFilesystem(usage: usage, mountPoint: mounted.first { $0.device == usage.device }?.mountPoint ?? "")
        }
    }

    /// The device of the filesystem with this UUID (/dev/disk/by-uuid), nil when there is none or
    /// `uuid` is not a plain name.
    public func filesystemDevice(uuid: String) -> String? {
        DiskByUUID.device(uuid: uuid, paths: configuration.paths)
    }
}
