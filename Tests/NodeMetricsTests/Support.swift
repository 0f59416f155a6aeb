import Foundation
import Testing
@testable import NodeMetrics

/// Paths of the fixture trees next to this file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    static func path(_ relative: String) -> String { root + "/" + relative }

    static func text(_ relative: String) throws -> String {
        try String(contentsOfFile: path(relative), encoding: .utf8)
    }

    /// A v1 hierarchy whose controllers are the fixture's directories; `unified` adds a cgroup2 dir (hybrid).
    static func v1Hierarchy(unified: String? = nil) throws -> CgroupHierarchy {
        var mounts: [CgroupController: String] = [:]
        for c in [CgroupController.cpu, .cpuacct, .cpuset, .memory, .blkio, .pids] { mounts[c] = path("v1/\(c.rawValue)") }
        if let unified { mounts[.unified] = path(unified) }
        return try CgroupHierarchy(layout: CgroupLayout(mode: unified == nil ? .v1 : .hybrid, mountPoints: mounts))
    }

    static func v2Hierarchy() throws -> CgroupHierarchy {
        try CgroupHierarchy(layout: CgroupLayout(mode: .v2, mountPoints: [.unified: path("v2")]),
                            hugePageSizesKB: [2048, 1_048_576])
    }

    static func number(_ relative: String) throws -> UInt64 {
        try #require(UInt64(text(relative).trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The value of `key` in a flat keyed fixture file.
    static func keyed(_ relative: String, _ key: String) throws -> UInt64 {
        let line = try #require(text(relative).split(separator: "\n").first { $0.split(separator: " ").first.map(String.init) == key })
        return try #require(UInt64(line.split(separator: " ")[1]))
    }
}

/// The root of the package (for the built executable).
enum Package {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
}

/// A temporary directory removed when the value goes away.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("nm-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func file(_ name: String) -> String { path + "/" + name }
}

extension RunningAgent {
    /// A JSON object the agent serves at `path`; nil unless the status is 200.
    func json(_ path: String) throws -> [String: Any]? {
        let r = try get(path)
        guard r.status == 200 else { return nil }
        return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any]
    }
}

/// How much slower than this machine the tests run: the cgroup v2 guest (software-emulated, see
/// scripts/vm-test.sh) sets `NODE_METRICS_TEST_SLOWDOWN`, and every wait for something to happen is
/// stretched by it. No check compares a duration with it.
enum TestTiming {
    static let slowdown: Double = max(1, Double(ProcessInfo.processInfo.environment["NODE_METRICS_TEST_SLOWDOWN"] ?? "") ?? 1)
}

/// Polls `body` every 200 ms until it returns a value or `seconds` (stretched by the slowdown) pass (then nil).
func eventually<T>(_ seconds: Double = 20, _ body: () throws -> T?) rethrows -> T? {
    let deadline = Date().addingTimeInterval(seconds * TestTiming.slowdown)
    while Date() < deadline {
        if let v = try body() { return v }
        usleep(200_000)
    }
    return nil
}

/// Checks on a whole Prometheus text exposition.
enum Exposition {
    /// Series that appear more than once with the same name and label set (label order ignored),
    /// which Prometheus rejects as duplicate samples; each returned once, as `name{sorted labels}`.
    static func duplicateSeries(_ text: String) -> [String] {
        var seen = Set<String>(), duplicates = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let key = seriesKey(line) else { continue }
            if !seen.insert(key).inserted { duplicates.insert(key) }
        }
        return duplicates.sorted()
    }

    /// `name{a="1",b="2"}` with the labels sorted, from one sample line; nil for a malformed line.
    static func seriesKey(_ line: Substring) -> String? {
        guard let brace = line.firstIndex(of: "{") else { return line.split(separator: " ").first.map(String.init) }
        var labels: [String] = [], current = "", inQuotes = false, escaped = false
        var i = line.index(after: brace)
        while i < line.endIndex {
            let ch = line[i]
            if inQuotes {
                current.append(ch)
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inQuotes = false }
            } else if ch == "\"" {
                inQuotes = true; current.append(ch)
            } else if ch == "," || ch == "}" {
                if !current.isEmpty { labels.append(current) }
                current = ""
                if ch == "}" { return "\(line[..<brace]){\(labels.sorted().joined(separator: ","))}" }
            } else {
                current.append(ch)
            }
            i = line.index(after: i)
        }
        return nil
    }
}
