/// The web page (cAdvisor's `/containers/<name>` and `/docker/<name>`): one server-rendered HTML
/// page per container with its limits, current usage, CPU and memory over the stored history (inline
/// SVG, no scripts, refreshes every 5 s) and links to its subcontainers.
enum WebUI {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    static func bytes(_ v: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var x = Double(v)
        var i = 0
        while x >= 1024 && i < units.count - 1 { x /= 1024; i += 1 }
        return i == 0 ? "\(v) B" : "\((x * 10).rounded() / 10) \(units[i])"
    }

    /// A polyline of `values` scaled into a 600×120 box.
    static func sparkline(_ values: [Double], label: String) -> String {
        guard values.count > 1, let top = values.max(), top > 0 else { return "<p>\(escape(label)): not enough samples yet</p>" }
        let points = values.enumerated().map { i, v in
            "\(Double(i) * 600 / Double(values.count - 1)),\(120 - v / top * 115)"
        }.joined(separator: " ")
        return """
        <figure><figcaption>\(escape(label))</figcaption>
        <svg viewBox="0 0 600 120" width="600" height="120" role="img"><rect width="600" height="120" fill="#f6f8fa"/>
        <polyline fill="none" stroke="#1f6feb" stroke-width="2" points="\(points)"/></svg></figure>
        """
    }

    static func page(router: APIRouter, name: String, docker: Bool) -> HTTPResponse {
        let prefix = router.urlBasePrefix
        let base = docker ? "/docker" : "/containers"
        guard let snapshot = router.manager.store.snapshot(name) else {
            return .text(404, "unknown container \"\(name)\"")
        }
        let samples = snapshot.samples
        let machine = router.manager.machineInfo
        var cpuRates: [Double] = []
        for (a, b) in zip(samples, samples.dropFirst()) where b.timestampNanos > a.timestampNanos {
            let used = Double(b.cpu.usage.total &- a.cpu.usage.total)
            cpuRates.append(used / Double(b.timestampNanos - a.timestampNanos))
        }
        let latest = samples.last
        let spec = snapshot.spec
        var html = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
        <title>node-metrics — \(escape(name))</title>
        <style>body{font-family:sans-serif;margin:2em;max-width:60em}td,th{padding:.2em .8em;text-align:left}</style>
        </head><body><h1>\(escape(name))</h1>
        <p><a href="\(prefix)/containers/">root</a> · <a href="\(prefix)/docker/">Docker containers</a> ·
        <a href="\(prefix)/api/v2.0/spec\(escape(name))">spec JSON</a> · <a href="\(prefix)\(router.prometheusEndpoint)">metrics</a></p>
        """
        if !snapshot.metadata.aliases.isEmpty {
            html += "<p>Aliases: \(snapshot.metadata.aliases.map(escape).joined(separator: ", "))</p>"
        }
        if !snapshot.metadata.image.isEmpty { html += "<p>Image: \(escape(snapshot.metadata.image))</p>" }
        html += "<h2>Machine</h2><table><tr><th>Cores</th><td>\(machine.numCores)</td></tr>"
        html += "<tr><th>Memory</th><td>\(bytes(machine.memoryCapacity))</td></tr></table>"
        html += "<h2>Limits</h2><table>"
        html += "<tr><th>CPU shares</th><td>\(spec.cpuShares)</td></tr>"
        html += "<tr><th>CPU quota</th><td>\(spec.cpuQuota == 0 ? "none" : "\(spec.cpuQuota) µs per \(spec.cpuPeriod) µs")</td></tr>"
        html += "<tr><th>Memory limit</th><td>\(spec.memoryLimit == 0 || spec.memoryLimit > 1 << 62 ? "none" : bytes(spec.memoryLimit))</td></tr></table>"
        if let latest {
            html += "<h2>Usage</h2><table>"
            html += "<tr><th>CPU</th><td>\(((cpuRates.last ?? 0) * 1000).rounded() / 1000) cores</td></tr>"
            html += "<tr><th>Memory usage</th><td>\(bytes(latest.memory.usage))</td></tr>"
            html += "<tr><th>Working set</th><td>\(bytes(latest.memory.workingSet))</td></tr>"
            for i in latest.network {
                html += "<tr><th>\(escape(i.name))</th><td>rx \(bytes(i.rxBytes)), tx \(bytes(i.txBytes))</td></tr>"
            }
            html += "</table>"
        }
        html += sparkline(cpuRates, label: "CPU (cores)")
        html += sparkline(samples.map { Double($0.memory.usage) }, label: "Memory usage (bytes)")
        let children = router.children(name)
        if !children.isEmpty {
            html += "<h2>Subcontainers</h2><ul>"
            for c in children { html += "<li><a href=\"\(prefix)\(base)\(escape(c))\">\(escape(c))</a></li>" }
            html += "</ul>"
        }
        html += "</body></html>\n"
        return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }

    /// `/docker/`: the containers a Docker integration has named.
    static func dockerIndex(router: APIRouter) -> HTTPResponse {
        let prefix = router.urlBasePrefix
        var html = """
        <!DOCTYPE html><html><head><meta charset="utf-8"><title>node-metrics — Docker containers</title></head>
        <body><h1>Docker containers</h1><p><a href="\(prefix)/containers/">root</a></p><ul>
        """
        var any = false
        for name in router.manager.store.names {
            guard let m = router.manager.store.metadata(name), m.runtime == "docker" else { continue }
            any = true
            html += "<li><a href=\"\(prefix)/docker\(escape(name))\">\(escape(m.aliases.first ?? name))</a> \(escape(m.image))</li>"
        }
        if !any { html += "<li>none found</li>" }
        html += "</ul></body></html>\n"
        return HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(html.utf8))
    }
}
