import FoundationEssentials

/// The kubelet's `/pods`, as Telegraf's kubernetes input and OpenTelemetry's kubeletstats receiver
/// fetch it before the Summary API: a PodList built from the CRI runtimes (containerd's CRI plugin on
/// `-containerd`, CRI-O on `-crio`) asked now. A runtime whose socket does not exist, or whose
/// containerd has no CRI plugin, adds nothing; when every socket that exists fails, 503 with why.
extension APIRouter {
    func pods(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" else { return .text(405, "405 method not allowed\n") }
        let endpoints = manager.configuration.runtimeEndpoints
        var sources: [PodList.Source] = []
        var failures: [String] = []
        for (path, scheme) in [(endpoints.containerd, "containerd"), (endpoints.crio, "cri-o")]
        where !path.isEmpty && FileManager.default.fileExists(atPath: path) {
            do {
                sources.append(PodList.Source(scheme: scheme, pods: try CRIClient(socketPath: path, scheme: scheme).pods()))
            } catch {
                let text = "\(error)"
                if text.includes("unimplemented") { continue } // a containerd without its CRI plugin (Docker's own)
                failures.append(text)
            }
        }
        if sources.isEmpty && !failures.isEmpty {
            return .text(503, "no container runtime answered over CRI: \(failures.joined(separator: "; "))\n")
        }
        var w = JSONWriter(capacity: 1 << 14)
        PodList.write(sources, nodeName: kubelet.nodeName, to: &w)
        return .json(w)
    }
}
