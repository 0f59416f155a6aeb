// libFuzzer target: arbitrary requests through the real APIRouter on a real ContainerManager.
//
// An input is a request in a plain, HTTP-like text form, so that seeds are readable and the
// dictionary's tokens land where they matter:
//
//     GET                          method line: the method, then optionally a space and a router
//     /api/v2.0/stats/?count=2     the request target (path and query, percent-encoded as sent)
//     Authorization: Basic ...     header lines, "Name: value", until an empty line
//                                  (empty line)
//     {"num_stats": 3}             the body: every remaining byte
//
// Routers: none (the defaults, as `node-metrics` with no flags), `basic` (url_base_prefix /nm,
// -prometheus_endpoint /prom, htpasswd authentication on every endpoint but /healthz, a kubelet node
// name) and `digest` (htdigest authentication on the web pages, as cAdvisor).
//
// The manager runs on the cgroup fixture trees (NM_FUZZ_FIXTURES, as a hybrid host; unset: this
// host's real cgroups) under a root prefix (NM_FUZZ_ROOT, made once: links to /proc, /sys, /etc and a
// /dev/disk/by-uuid entry) for a few housekeeping passes before the first input, then stops, so every
// input sees the same containers, samples and events (`max_age` still samples on the caller's thread).
// Each 200 `application/json` response must parse as JSON (NM_FUZZ_CHECK_JSON=0 skips the check).
import FoundationEssentials
import Logging
import NodeMetrics
#if canImport(Glibc)
import Glibc
#endif

/// What every input runs against, made on first use.
struct FuzzWorld: Sendable {
    let manager: ContainerManager
    let routers: [String: APIRouter]
    let checkJSON: Bool

    static let shared = FuzzWorld()

    init() {
        let env = ProcessInfo.processInfo.environment
        let root = env["NM_FUZZ_ROOT"] ?? "/tmp/nm-fuzz-root-\(getuid())"
        Self.makeRoot(root)
        var c = ManagerConfiguration()
        c.paths = HostPaths(root: root)
        c.kmsgPath = nil
        if let fixtures = env["NM_FUZZ_FIXTURES"], !fixtures.isEmpty {
            // The fixture trees as a hybrid host: a few containers whose files never change.
            var mounts: [CgroupController: String] = [.unified: fixtures + "/hybrid-unified"]
            for controller in [CgroupController.cpu, .cpuacct, .cpuset, .memory, .blkio, .pids] {
                mounts[controller] = fixtures + "/v1/" + controller.rawValue
            }
            c.layout = CgroupLayout(mode: .hybrid, mountPoints: mounts)
        }
        c.housekeeping = HousekeepingPolicy(interval: .milliseconds(100), maxInterval: .seconds(1), dynamic: false)
        var logger = Logger(label: "fuzz-router")
        logger.logLevel = .critical
        do {
            manager = try ContainerManager(configuration: c, logger: logger)
        } catch {
            fatalError("fuzz-router: cannot start the manager: \(error)")
        }
        manager.start()
        // A few housekeeping passes: every container has samples, derived stats and its creation event.
        let deadline = Self.now() + 8
        while Self.now() < deadline,
              manager.store.names.count < 2 || (manager.store.snapshot("/", count: nil)?.samples.count ?? 0) < 4 {
            usleep(50_000)
        }
        manager.stop()

        let realm = "fuzz"
        let htpasswd = root + "/htpasswd", htdigest = root + "/htdigest"
        // Users: sha / sha-pass ({SHA}), apr / apr1-pass ($apr1$), dig / dig-pass (htdigest, realm fuzz).
        Self.write(htpasswd, "sha:{SHA}xO2etOilyqtV8o1RvvnmkeBx7QI=\napr:$apr1$FUOpHdFT$Af9ngW6rDFlkjwuv.ygnx.\n")
        Self.write(htdigest, "dig:fuzz:89dd23144be9e83ef7612895b51f4f11\n")
        do {
            let basic = try HTTPAuthenticator(scheme: .basic, path: htpasswd, realm: realm)
            let digest = try HTTPAuthenticator(scheme: .digest, path: htdigest, realm: realm)
            routers = [
                "": APIRouter(manager: manager),
                "basic": APIRouter(manager: manager, urlBasePrefix: "/nm/", prometheusEndpoint: "prom",
                                   authenticator: basic, protectAllEndpoints: true,
                                   kubelet: KubeletConfiguration(nodeName: "fuzz-node")),
                "digest": APIRouter(manager: manager, authenticator: digest),
            ]
        } catch {
            fatalError("fuzz-router: cannot read the auth files: \(error)")
        }
        checkJSON = env["NM_FUZZ_CHECK_JSON"] != "0"
        let names = manager.store.names
        let note = "fuzz-router: root \(root), \(names.count) containers, \(manager.store.snapshot("/", count: nil)?.samples.count ?? 0) samples of /\n"
        _ = note.utf8CString.withUnsafeBufferPointer { Glibc.write(2, $0.baseAddress, $0.count - 1) }
    }

    static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec)
    }

    static func write(_ path: String, _ text: String) {
        guard let f = fopen(path, "w") else { fatalError("fuzz-router: cannot write \(path)") }
        fputs(text, f)
        fclose(f)
    }

    /// The root prefix: the host's /proc, /sys and /etc, and a /dev/disk/by-uuid link to the device
    /// mounted at / (the storage endpoint's `uuid` lookup needs the directory). Links that exist are kept.
    static func makeRoot(_ root: String) {
        for dir in [root, root + "/dev", root + "/dev/disk", root + "/dev/disk/by-uuid"] { mkdir(dir, 0o755) }
        for top in ["proc", "sys", "etc", "run", "var"] { symlink("/" + top, root + "/" + top) }
        var device = "vda"
        if let f = fopen("/proc/self/mountinfo", "r") {
            var line = [CChar](repeating: 0, count: 4096)
            while fgets(&line, Int32(line.count), f) != nil {
                let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    .split(separator: " ")
                // mountinfo: id parent maj:min root mountpoint options ... - fstype source superoptions
                if fields.count > 4, fields[4] == "/", let dash = fields.firstIndex(of: "-"), dash + 2 < fields.count,
                   fields[dash + 2].hasPrefix("/dev/") {
                    device = String(fields[dash + 2].dropFirst(5))
                }
            }
            fclose(f)
        }
        symlink("../../" + device, root + "/dev/disk/by-uuid/1b2c3d4e-0000-4000-8000-00000000f022")
    }

    /// Splits an input into the router's name and the request.
    static func request(_ data: UnsafeBufferPointer<UInt8>) -> (String, HTTPRequest) {
        var lines: [String] = []
        var at = 0
        var body: [UInt8] = []
        while at <= data.count {
            let end = data[at...].firstIndex(of: 0x0A) ?? data.count
            var line = String(decoding: UnsafeBufferPointer(rebasing: data[at..<end]), as: UTF8.self)
            if line.hasSuffix("\r") { line.removeLast() }
            at = end + 1
            // After the method and target lines, an empty line ends the headers.
            if lines.count >= 2 && line.isEmpty {
                if at < data.count { body = Array(data[at...]) }
                break
            }
            lines.append(line)
        }
        let methodLine = lines.first?.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false) ?? []
        let method = methodLine.first.map(String.init) ?? "GET"
        let router = methodLine.count > 1 ? String(methodLine[1]) : ""
        let uri = lines.count > 1 ? lines[1] : "/"
        var headers: [(String, String)] = []
        for line in lines.dropFirst(2) {
            let kv = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            headers.append((String(kv[0]), kv.count > 1 ? String(kv[1].drop { $0 == " " }) : ""))
        }
        return (router, HTTPRequest(method: method, uri: uri, body: body, headers: headers))
    }
}

/// Any JSON value: decoding one checks that a body is JSON.
struct AnyJSON: Decodable {
    init(from decoder: any Decoder) throws {
        if var array = try? decoder.unkeyedContainer() {
            while !array.isAtEnd { _ = try array.decode(AnyJSON.self) }
        } else if let object = try? decoder.container(keyedBy: Key.self) {
            for key in object.allKeys { _ = try object.decode(AnyJSON.self, forKey: key) }
        } else {
            let value = try decoder.singleValueContainer()
            if value.decodeNil() { return }
            if (try? value.decode(Bool.self)) != nil { return }
            if (try? value.decode(Double.self)) != nil { return }
            _ = try value.decode(String.self)
        }
    }

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRouter(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let world = FuzzWorld.shared
    let (name, request) = FuzzWorld.request(UnsafeBufferPointer(start: data, count: size))
    guard let router = world.routers[name] else { return -1 } // not a router: not added to the corpus
    let response = router.handle(request)
    if let stream = response.eventStream {
        // The server iterates the stream until the client leaves; here the client leaves at once.
        Task { for await _ in stream {} }.cancel()
    }
    precondition((100...599).contains(response.status), "status \(response.status)")
    if world.checkJSON, response.status == 200, response.contentType == "application/json", response.eventStream == nil {
        do {
            _ = try JSONDecoder().decode(AnyJSON.self, from: Data(response.body))
        } catch {
            fatalError("\(request.method) \(request.uri): a 200 application/json body that is not JSON: \(error)\n"
                       + String(decoding: response.body.prefix(2000), as: UTF8.self))
        }
    }
    return 0
}
