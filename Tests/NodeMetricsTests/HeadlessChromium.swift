import Foundation
import Testing

/// A minimal WebSocket client (RFC 6455, text frames, client-masked) over a loopback socket, for the
/// Chrome DevTools protocol.
final class LoopbackWebSocket {
    let fd: Int32
    private var buffer: [UInt8] = []

    init(port: Int, path: String, timeout: Int = 30_000_000) throws {
        fd = try LoopbackHTTP.connect(port: port, timeout: timeout)
        let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
        try send(Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n\r\n".utf8))
        while !(buffer.count >= 4 && Array(buffer.suffix(4)) == [13, 10, 13, 10]) { buffer += try read(1) }
        let head = String(decoding: buffer, as: UTF8.self)
        buffer = []
        guard head.hasPrefix("HTTP/1.1 101") else { close(fd); throw TestFailure("WebSocket upgrade refused: \(head)") }
    }

    deinit { close(fd) }

    private func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestFailure("WebSocket send failed") }
            sent += n
        }
    }

    private func read(_ count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = out[got...].withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard n > 0 else { throw TestFailure("WebSocket closed or timed out") }
            got += n
        }
        return out
    }

    /// Sends one text frame.
    func sendText(_ text: String) throws {
        let payload = Array(text.utf8)
        var frame: [UInt8] = [0x81]
        if payload.count < 126 { frame.append(0x80 | UInt8(payload.count)) }
        else if payload.count <= 0xFFFF { frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] }
        else { frame.append(0x80 | 127); for i in (0..<8).reversed() { frame.append(UInt8((UInt64(payload.count) >> (8 * UInt64(i))) & 0xFF)) } }
        let mask = (0..<4).map { _ in UInt8.random(in: 0...255) }
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
        try send(frame)
    }

    /// The next whole text message (continuations joined; pings answered).
    func receiveText() throws -> String {
        var message: [UInt8] = []
        while true {
            let h = try read(2)
            let opcode = h[0] & 0x0F, fin = h[0] & 0x80 != 0
            var length = UInt64(h[1] & 0x7F)
            if length == 126 { let b = try read(2); length = UInt64(b[0]) << 8 | UInt64(b[1]) }
            else if length == 127 { length = try read(8).reduce(0) { $0 << 8 | UInt64($1) } }
            let mask: [UInt8] = try (h[1] & 0x80 != 0 ? read(4) : [])
            var payload: [UInt8] = try (length > 0 ? read(Int(length)) : [])
            if !mask.isEmpty { payload = payload.enumerated().map { $0.element ^ mask[$0.offset % 4] } }
            switch opcode {
            case 0x8: throw TestFailure("WebSocket closed by the browser")
            case 0x9: try send([0x8A, 0x80 | UInt8(min(payload.count, 125))] + [0, 0, 0, 0] + payload.prefix(125))
            case 0xA: continue
            default:
                message += payload
                if fin { return String(decoding: message, as: UTF8.self) }
            }
        }
    }
}

/// Debian's chromium, headless, with its own profile in a temp dir, driven over the DevTools protocol
/// (one page target). Console errors, uncaught exceptions and error log entries are collected in
/// `errors`. `stop()` (and deinit) kills the browser and whatever it started, by PID.
final class HeadlessChromium {
    let profile: TemporaryDirectory
    let child: ChildProcess
    let socket: LoopbackWebSocket
    private var nextID = 0
    private(set) var errors: [String] = []

    static var available: Bool { FileManager.default.isExecutableFile(atPath: "/usr/lib/chromium/chromium") }

    init(width: Int = 1280, height: Int = 900) throws {
        guard Self.available else {
            throw TestFailure("no /usr/lib/chromium/chromium: bash scripts/install-deps.sh --test installs Debian's chromium")
        }
        let profile = try TemporaryDirectory()
        self.profile = profile
        var args = ["--headless", "--disable-gpu", "--remote-debugging-port=0", "--user-data-dir=\(profile.path)",
                    "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
                    "--window-size=\(width),\(height)", "about:blank"]
        if getuid() == 0 { args.insert("--no-sandbox", at: 0) }
        // Its chatter goes to a file (a pipe nobody reads could fill and stall it).
        let child = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" \"$@\" >\"$LOG\" 2>&1", "/usr/lib/chromium/chromium"] + args,
                                 environment: ["LOG": profile.file("chromium.log"), "HOME": profile.path, "PATH": "/usr/bin:/bin"])
        guard let port = eventually(30, { () -> Int? in
            guard let text = try? String(contentsOfFile: profile.file("DevToolsActivePort"), encoding: .utf8) else { return nil }
            return Int(text.split(separator: "\n").first ?? "")
        }) else { child.stop(); throw TestFailure("chromium did not start its DevTools server") }
        let list = try LoopbackHTTP.get(port: port, "/json/list")
        let targets = (try? JSONSerialization.jsonObject(with: Data(list.body.utf8))) as? [[String: Any]] ?? []
        guard let ws = targets.first(where: { $0["type"] as? String == "page" })?["webSocketDebuggerUrl"] as? String,
              let path = ws.range(of: "/devtools/").map({ String(ws[$0.lowerBound...]) }) else {
            child.stop()
            throw TestFailure("no page target: \(list.body)")
        }
        self.child = child
        socket = try LoopbackWebSocket(port: port, path: path)
        for method in ["Runtime.enable", "Log.enable", "Page.enable"] { _ = try call(method) }
    }

    deinit { stop() }

    private var stopped = false

    /// Kills the browser's descendants and the browser, by PID.
    func stop() {
        guard !stopped else { return }
        stopped = true
        let root = child.process.processIdentifier
        var descendants: [Int32] = []
        var frontier: Set<Int32> = [root]
        let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc"))?.compactMap(Int32.init) ?? []
        var parents: [Int32: Int32] = [:]
        for pid in all {
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let paren = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: paren)...].split(separator: " ")
            if fields.count > 1, let ppid = Int32(fields[1]) { parents[pid] = ppid }
        }
        while !frontier.isEmpty {
            let next = Set(parents.filter { frontier.contains($0.value) }.keys)
            descendants += next
            frontier = next
        }
        child.stop()
        for pid in descendants { kill(pid, SIGKILL) }
    }

    /// One DevTools call; events seen while waiting are checked for errors.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) throws -> [String: Any] {
        nextID += 1
        let id = nextID
        let data = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params] as [String: Any])
        try socket.sendText(String(decoding: data, as: UTF8.self))
        while true {
            let text = try socket.receiveText()
            guard let message = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { continue }
            if message["id"] as? Int == id {
                if let error = message["error"] { throw TestFailure("\(method): \(error)") }
                return message["result"] as? [String: Any] ?? [:]
            }
            note(message)
        }
    }

    private func note(_ event: [String: Any]) {
        let params = event["params"] as? [String: Any] ?? [:]
        switch (event["method"] as? String) ?? "" {
        case "Runtime.consoleAPICalled" where ["error", "assert"].contains(params["type"] as? String):
            errors.append("console: \(params["args"] ?? "")")
        case "Runtime.exceptionThrown":
            errors.append("exception: \(params["exceptionDetails"] ?? "")")
        case "Log.entryAdded":
            let entry = params["entry"] as? [String: Any] ?? [:]
            if entry["level"] as? String == "error" { errors.append("log: \(entry["text"] ?? "") \(entry["url"] ?? "")") }
        default: break
        }
    }

    /// Navigates and waits for the load event.
    func navigate(_ url: String) throws {
        _ = try evaluate("window.__leaving = true")
        _ = try call("Page.navigate", ["url": url])
        let loaded = try eventually(20) { try evaluate("!window.__leaving && document.readyState === 'complete'") as? Bool == true ? true : nil }
        if loaded == nil { throw TestFailure("\(url) did not load") }
    }

    /// Evaluates an expression in the page; its value (JSON-like) or nil.
    func evaluate(_ expression: String) throws -> Any? {
        let r = try call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let e = r["exceptionDetails"] { throw TestFailure("evaluate \(expression): \(e)") }
        return (r["result"] as? [String: Any])?["value"]
    }

    /// A full-page PNG of what the page shows now.
    func screenshot(to path: String) throws {
        let size = (try call("Page.getLayoutMetrics")["cssContentSize"] as? [String: Any]) ?? [:]
        let clip: [String: Any] = ["x": 0, "y": 0, "width": size["width"] ?? 1280, "height": size["height"] ?? 900, "scale": 1]
        let r = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true, "clip": clip])
        guard let b64 = r["data"] as? String, let png = Data(base64Encoded: b64) else { throw TestFailure("no screenshot data") }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try png.write(to: URL(fileURLWithPath: path))
    }

    /// The viewport (phone width with `mobile`) and colour scheme the page sees.
    func emulate(width: Int, height: Int, mobile: Bool = false, dark: Bool = false) throws {
        try call("Emulation.setDeviceMetricsOverride", ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile])
        try call("Emulation.setEmulatedMedia", ["features": [["name": "prefers-color-scheme", "value": dark ? "dark" : "light"]]])
    }
}
