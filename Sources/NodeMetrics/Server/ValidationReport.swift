import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The plain-text `/validate/` page: what the agent found on this host, section by section, each
/// with cAdvisor's verdict labels ([Supported and recommended], [Supported, but not recommended],
/// [Unsupported], [Unknown]).
public enum ValidationReport {
    public static func text(manager: ContainerManager) -> String {
        let m = manager.machineInfo
        let layout = manager.layout
        var out = "node-metrics version: \(AgentVersion.current)\n\n"
        out += "OS version: \(m.containerOSVersion)\n\n"
        let major = Int(m.kernelVersion.split(separator: ".").first ?? "") ?? 0
        out += "Kernel version: \(major >= 3 ? "[Supported and recommended]" : "[Unsupported]")\n"
        out += "\tKernel version is \(m.kernelVersion). Versions >= 2.6 are supported. 3.0+ are recommended.\n\n"
        let verdict = layout.mode == .v1 ? "[Supported, but not recommended]" : "[Supported and recommended]"
        out += "Cgroup setup: \(verdict)\n"
        out += "\tMode: \(layout.mode.rawValue)"
        switch layout.mode {
        case .v1: out += " (cgroup v1 controllers only)\n"
        case .v2: out += " (unified hierarchy)\n"
        case .hybrid: out += " (v1 controllers; the cgroup2 mount is read for pressure only)\n"
        }
        for (controller, path) in layout.mountPoints.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            out += "\t\(controller.rawValue): \(path)\n"
        }
        let missing = CgroupController.allCases.filter { $0 != .unified && layout.mountPoints[$0] == nil }
        if layout.mode != .v2 && !missing.isEmpty {
            out += "\tNot mounted: \(missing.map(\.rawValue).joined(separator: ", ")) (their stats are absent)\n"
        }
        out += "\n"
        out += "Container runtimes:\n"
        for (name, path) in manager.configuration.runtimeEndpoints.all {
            if path.hasPrefix("tcp://") {
                let tls = manager.configuration.runtimeEndpoints.dockerTLS.map { " with TLS (\($0.files.certificate))" } ?? ""
                out += "\t\(name): TCP endpoint \(path)\(tls)\n"
                continue
            }
            var st = stat()
            let found = stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFSOCK
            out += "\t\(name): \(found ? "socket found" : "no socket") at \(path)\n"
        }
        out += "\n"
        out += "Block device setup: \(m.diskMap.isEmpty ? "[Unknown]" : "[Supported and recommended]")\n"
        for (key, d) in m.diskMap.sorted(by: { $0.key < $1.key }) {
            out += "\t\(d.name) (\(key)): \(d.size) bytes, scheduler \(d.scheduler)\n"
        }
        out += "\n"
        let discovery = manager.discoveryStatus
        out += "Inotify watches: \(discovery.failure == nil ? "[Supported and recommended]" : "[Supported, but not recommended]")\n"
        out += "\t\(discovery.watches) watches, \(discovery.rescans) rescans, \(discovery.overflows) queue overflows\n"
        if let failure = discovery.failure { out += "\t\(failure)\n" }
        out += "\n"
        out += "Managed containers: \(manager.store.count)\(manager.isReady ? "" : " (first discovery pass still running)")\n"
        let failures = manager.sampleFailures
        out += "\nSampling failures: \(failures.failing.isEmpty ? "[none now]" : "[\(failures.failing.count) failing]")\n"
        for (reason, n) in failures.counts.sorted(by: { $0.key < $1.key }) { out += "\t\(reason): \(n) since start\n" }
        for (name, reason) in failures.failing.sorted(by: { $0.key < $1.key }).prefix(20) {
            out += "\t\(name): latest sample failed (\(reason))\n"
        }
        if !m.scrapeErrors.isEmpty { out += "\tmachine info: \(m.scrapeErrors.joined(separator: "; "))\n" }
        let statuses = (manager.configuration.backends?.statuses ?? []) + manager.configuration.pushStatus.statuses
        if !statuses.isEmpty {
            let failing = statuses.filter { $0.failingInARow > 0 }.count
            out += "\nStorage drivers: \(failing == 0 ? "[all sending]" : "[\(failing) failing]")\n"
            for s in statuses {
                out += "\t\(s.name): \(s.destination); sent \(s.sent), buffered \(s.buffered), dropped \(s.dropped), send errors \(s.sendErrors)"
                if s.failingInARow > 0, let e = s.lastError { out += "; failing (\(s.failingInARow) in a row): \(e)" }
                out += "\n"
            }
        }
        return out
    }
}
