/// The web page (cAdvisor's `/containers/<name>` and `/docker/<name-or-id>`): a small HTML shell per
/// container, rendered here with what needs no sampling (name, aliases, image, links to its
/// subcontainers, Docker containers and Kubernetes pods), and our own script (`WebAssets.swift`) that
/// draws the machine, limits, live SVG charts and the process table from the JSON API, updating every
/// housekeeping interval. The script and style sheet are embedded in the binary and served under
/// `/static/` with an ETag and a long cache lifetime (their URLs carry the content hash).
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

    /// A container name as a URL path (each segment percent-encoded, slashes kept), HTML-escaped.
    static func href(_ name: String) -> String {
        var out = ""
        for b in name.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: ":"), UInt8(ascii: "@"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return escape(out)
    }

    static let kubernetesNamespace = "io.kubernetes.pod.namespace"
    static let kubernetesPod = "io.kubernetes.pod.name"
    static let kubernetesContainer = "io.kubernetes.container.name"

    /// `GET /static/<file>`: an embedded asset; 304 when `If-None-Match` names its ETag.
    static func asset(_ file: String, request: HTTPRequest) -> HTTPResponse {
        guard let a = WebAssets.named(file) else { return .text(404, "404 page not found\n") }
        let headers = [("ETag", a.etag), ("Cache-Control", "private, max-age=31536000, immutable")]
        if let tags = request.header("If-None-Match"),
           tags.split(separator: ",").contains(where: { tag in let t = tag.filter { $0 != " " }; return t == a.etag || t == "*" }) {
            return HTTPResponse(status: 304, contentType: a.contentType, body: [], headers: headers)
        }
        return HTTPResponse(status: 200, contentType: a.contentType, body: a.bytes, headers: headers)
    }

    /// The page's head, header (breadcrumbs and filter box) and the opening of `<main>`.
    static func head(prefix: String, title: String, name: String?, interval: Int64, crumbs: String) -> String {
        let data = name.map { " data-name=\"\(escape($0))\" data-interval=\"\(interval)\"" } ?? ""
        return """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width,initial-scale=1"><meta name="color-scheme" content="light dark">
        <title>\(escape(title)) · node-metrics</title><link rel="icon" href="data:,">
        <link rel="stylesheet" href="\(prefix)/static/ui.css?v=\(WebAssets.css.hash)">
        <script src="\(prefix)/static/ui.js?v=\(WebAssets.script.hash)" defer></script></head>
        <body data-prefix="\(escape(prefix))"\(data)>
        <header><a class="brand" href="\(prefix)/containers/">node-metrics</a><nav aria-label="Path">\(crumbs)</nav>
        <input type="search" id="filter" placeholder="Filter containers ( / )" aria-label="Filter containers" autocomplete="off">
        <span id="status" role="status" aria-live="polite"></span></header><main>
        """
    }

    /// Links to `/containers/`, then each ancestor of `name`.
    static func breadcrumbs(prefix: String, name: String) -> String {
        var out = "<a href=\"\(prefix)/containers/\">/</a>"
        var path = ""
        for part in name.split(separator: "/") {
            path += "/" + part
            out += " <a href=\"\(prefix)/containers\(href(path))\">\(escape(String(part)))</a> /"
        }
        if out.hasSuffix(" /") { out.removeLast(2) }
        return out
    }

    /// A list section the filter box works on; `items` are (link, text, detail).
    static func list(_ id: String, _ title: String, _ items: [(String, String, String)]) -> String {
        var html = "<section class=\"nav\" id=\"\(id)\"><h2>\(escape(title)) <small>(\(items.count))</small></h2><ul class=\"links\">"
        for (link, text, detail) in items {
            html += "<li><a href=\"\(link)\">\(escape(text))</a>"
            if !detail.isEmpty { html += " <small>\(escape(detail))</small>" }
            html += "</li>"
        }
        if items.isEmpty { html += "<li class=\"none\">none</li>" }
        return html + "</ul></section>"
    }

    static func dockerItems(router: APIRouter) -> [(String, String, String)] {
        let prefix = router.urlBasePrefix
        return router.manager.store.names.compactMap { name -> (String, String, String)? in
            guard let m = router.manager.store.metadata(name), m.runtime == "docker" else { return nil }
            let id = m.aliases.last ?? name
            return ("\(prefix)/docker/\(href(id))", m.aliases.first ?? name, m.image)
        }
    }

    /// Kubernetes containers as namespace/pod/container (from the runtimes' CRI or dockershim labels).
    static func podItems(router: APIRouter) -> [(String, String, String)] {
        let prefix = router.urlBasePrefix
        var items: [(String, String, String)] = []
        for name in router.manager.store.names {
            guard let m = router.manager.store.metadata(name), let pod = m.labels[kubernetesPod] else { continue }
            let container = m.labels[kubernetesContainer] ?? "(sandbox)"
            if container == "POD" { continue }
            let ns = m.labels[kubernetesNamespace] ?? ""
            items.append(("\(prefix)/containers\(href(name))", "\(ns)/\(pod)/\(container)", m.image))
        }
        return items.sorted { $0.1 < $1.1 }
    }

    static func html(_ text: String) -> HTTPResponse {
        HTTPResponse(status: 200, contentType: "text/html; charset=utf-8", body: Array(text.utf8),
                     headers: [("Cache-Control", "no-cache")])
    }

    /// `/containers/<name>` and `/docker/<name-or-id>` (`name`: the resolved cgroup name).
    static func page(router: APIRouter, name: String, docker: Bool) -> HTTPResponse {
        let prefix = router.urlBasePrefix
        guard let metadata = router.manager.store.metadata(name) else {
            return .text(404, "unknown container \"\(name)\"")
        }
        let title = docker ? (metadata.aliases.first ?? name) : name
        var html = head(prefix: prefix, title: title, name: name,
                        interval: router.manager.configuration.housekeeping.interval / 1_000_000,
                        crumbs: breadcrumbs(prefix: prefix, name: name))
        html += "<h1>\(escape(title))</h1><p class=\"meta\">"
        if docker { html += "<span>cgroup \(escape(name))</span> " }
        if !metadata.aliases.isEmpty { html += "<span>aliases \(metadata.aliases.map(escape).joined(separator: ", "))</span> " }
        if !metadata.image.isEmpty { html += "<span>image \(escape(metadata.image))</span> " }
        if let pod = metadata.labels[kubernetesPod] {
            html += "<span>pod \(escape(metadata.labels[kubernetesNamespace] ?? ""))/\(escape(pod))</span> "
        }
        html += """
        <a href="\(prefix)/api/v1.3/containers\(href(name))">JSON</a> <a href="\(prefix)\(router.prometheusEndpoint)">metrics</a></p>
        <noscript><p>The figures and charts are drawn by a script: enable JavaScript, or read the JSON API.</p></noscript>
        <div class="grid"><section id="machine" class="card"><h2>Machine</h2><dl></dl></section>
        <section id="limits" class="card"><h2>Limits and isolation</h2><dl></dl></section>
        <section id="now" class="card"><h2>Now</h2><dl></dl></section></div>
        <section id="charts" class="charts" aria-label="Charts"></section>
        <section id="processes"><h2>Processes <small id="ps-count"></small></h2><div class="scroll"><table id="ps">
        <thead><tr><th>User</th><th>PID</th><th>PPID</th><th>CPU %</th><th>Mem %</th><th>RSS</th><th>Virtual</th><th>Status</th><th>Running</th><th>Command</th></tr></thead>
        <tbody></tbody></table></div></section>
        """
        let children = router.children(name).map { c in
            ("\(prefix)/containers\(href(c))", c, router.manager.store.metadata(c)?.aliases.first ?? "")
        }
        html += list("subcontainers", "Subcontainers", children)
        if name == "/" {
            html += list("docker", "Docker containers", dockerItems(router: router))
            html += list("pods", "Kubernetes pods", podItems(router: router))
        }
        html += "</main></body></html>\n"
        return Self.html(html)
    }

    /// `/docker/`: the containers a Docker integration has named.
    static func dockerIndex(router: APIRouter) -> HTTPResponse {
        let prefix = router.urlBasePrefix
        var html = head(prefix: prefix, title: "Docker containers", name: nil, interval: 0,
                        crumbs: "<a href=\"\(prefix)/containers/\">/</a> docker")
        html += "<h1>Docker containers</h1>" + list("docker", "Docker containers", dockerItems(router: router))
        html += "</main></body></html>\n"
        return Self.html(html)
    }
}
