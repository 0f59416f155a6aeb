/// The endpoints scrapers read: Prometheus `/metrics` (cAdvisor's families) and the kubelet's
/// `/stats/summary` and `/metrics/resource`.
extension APIRouter {
    /// The Prometheus exposition. As cAdvisor, the v2 options apply (`type=docker|podman` limits it
    /// to that runtime's containers, `max_age` refreshes stale samples first; `count` and `recursive`
    /// are fixed); beyond cAdvisor, `namespace=a,b` and `selector=<label selector>` narrow it. A bad
    /// value is 400 naming it (cAdvisor: 500).
    func metrics(_ request: HTTPRequest) -> HTTPResponse {
        var filter: MetricsFilter?
        do {
            let o = try v2Options(request)
            if request.query["namespace"] != nil || request.query["selector"] != nil || o.type != "name" {
                var f = try MetricsFilter(namespaces: request.query["namespace"] ?? "", selector: request.query["selector"] ?? "")
                if o.type != "name" { f.runtimes = [o.type] }
                filter = f
            }
            if let maxAge = o.maxAge { manager.refresh(manager.store.names, maxAge: maxAge) }
        } catch let error as APIError {
            return .text(error.status, error.message)
        } catch let error as LabelSelector.ParseError {
            return .text(400, error.description)
        } catch {
            return .text(400, "\(error)")
        }
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8",
                            body: exporter.scrape(filter: filter))
    }

    /// The kubelet's Summary API (stats/v1alpha1), GET or POST.
    func summary(_ request: HTTPRequest) -> HTTPResponse {
        guard request.method == "GET" || request.method == "POST" else { return .text(405, "405 method not allowed\n") }
        // As the kubelet: only the exact value "true" selects the cpu-and-memory summary.
        var w = JSONWriter(capacity: 1 << 16)
        KubeletSummary.write(KubeletView(store: manager.store, systemContainers: kubelet.systemContainers),
                             node: kubelet.node(manager: manager), onlyCPUAndMemory: request.query["only_cpu_and_memory"] == "true",
                             to: &w)
        return .json(w)
    }

    /// The kubelet's resource metrics, as metrics-server reads them.
    func resourceMetrics() -> HTTPResponse {
        let body = ResourceMetrics.text(KubeletView(store: manager.store, systemContainers: kubelet.systemContainers))
        return HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: body)
    }
}
