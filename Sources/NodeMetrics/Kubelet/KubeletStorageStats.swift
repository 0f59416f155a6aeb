/// The disk parts of the Summary API, from what LayerUsage measured: the node's `runtime`
/// {`imageFs`, `containerFs`}, a container's `rootfs` and `logs`, a pod's `volume` list and its
/// `ephemeral-storage` — FsStats and VolumeStats as stats/v1alpha1 writes them (field order of the Go
/// types, unknown fields left out).
extension KubeletSummary {
    /// FsStats: time, availableBytes, capacityBytes, usedBytes, inodesFree, inodes, inodesUsed.
    static func writeFsFields(_ fs: FsUsage, _ w: inout JSONWriter) {
        w.field("time", time(fs.timeNanos))
        if let v = fs.availableBytes { w.field("availableBytes", v) }
        if let v = fs.capacityBytes { w.field("capacityBytes", v) }
        if let v = fs.usedBytes { w.field("usedBytes", v) }
        if let v = fs.inodesFree { w.field("inodesFree", v) }
        if let v = fs.inodes { w.field("inodes", v) }
        if let v = fs.inodesUsed { w.field("inodesUsed", v) }
    }

    static func writeFs(_ key: String, _ fs: FsUsage, _ w: inout JSONWriter) {
        w.object(key) { w in writeFsFields(fs, &w) }
    }

    /// RuntimeStats. The image and container filesystems are one here (the runtime keeps writable
    /// layers beside its images), so containerFs repeats imageFs, as the kubelet reports an unsplit one.
    static func writeRuntime(_ disk: LayerUsage.NodeDisk?, _ w: inout JSONWriter) {
        guard let fs = disk?.imageFs else { return }
        w.object("runtime") { w in
            writeFs("imageFs", fs, &w)
            writeFs("containerFs", fs, &w)
        }
    }

    /// `volume` (every volume of the pod) and `ephemeral-storage`: the containers' rootfs and logs and
    /// the volumes on the pod's own filesystem (emptyDir and the kubelet-written ones: configMap,
    /// secret, projected, downwardAPI), against the capacity of the kubelet's filesystem.
    static func writePodStorage(_ pod: KubeletView.Pod, _ disk: LayerUsage.NodeDisk?, _ w: inout JSONWriter) {
        let volumes = disk?.volumes[pod.uid] ?? []
        if !volumes.isEmpty {
            w.array("volume", volumes) { w, v in
                w.beginObject()
                writeFsFields(v.usage, &w)
                w.field("name", v.name)
                w.endObject()
            }
        }
        let parts = pod.containers.flatMap { [$0.disk?.rootfs, $0.disk?.logs].compactMap { $0 } }
            + volumes.filter { $0.onPodFilesystem && $0.plugin == emptyDirPlugin }.map(\.usage)
        guard !parts.isEmpty else { return }
        var total = disk?.kubeletFs ?? FsUsage(timeNanos: parts.map(\.timeNanos).max() ?? 0)
        total.usedBytes = parts.compactMap(\.usedBytes).saturatingSum()
        total.inodesUsed = parts.compactMap(\.inodesUsed).saturatingSum()
        writeFs("ephemeral-storage", total, &w)
    }

    /// The kubelet's directory name of the emptyDir volume plugin.
    static let emptyDirPlugin = "kubernetes.io~empty-dir"
}
