import Foundation
import Testing
@testable import NodeMetrics

extension InotifyUsers {
    /// The seccomp sandbox of the real daemon.
    @Suite(.serialized) struct SandboxTests {
        func status(_ pid: Int32, _ key: String) -> String? {
            let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first { $0.hasPrefix(key + ":") }.map { $0.dropFirst(key.count + 1).trimmed }
        }

        @Test func theDaemonRefusesForbiddenCallsWithEPERMAndKeepsServing() throws {
            let agent = try RunningAgent(["-enable_metrics=cpu,percpu,memory,cpuLoad,diskIO,disk,network,tcp,udp,process,oom_event,pressure,cpu_topology"])
            defer { agent.child.stop() }
            let pid = agent.child.process.processIdentifier
            usleep(1_200_000)
            #expect(status(pid, "Seccomp") == "2", "filter mode")
            #expect(status(pid, "Seccomp_filters") == "1")
            // Every kind of endpoint still works inside the sandbox.
            for path in ["/metrics", "/api/v1.3/machine", "/api/v1.3/containers/", "/api/v1.3/subcontainers/", "/api/v2.0/ps/",
                         "/api/v2.0/storage", "/api/v2.1/machinestats", "/api/v2.0/stats?recursive=true&count=2",
                         "/api/v2.0/summary/", "/api/v2.0/attributes", "/validate/", "/containers/", "/api/v2.0/events?all_events=true"] {
                let r = try agent.get(path)
                #expect(r.status == 200 && !r.body.isEmpty, "\(path): \(r.status)")
            }
            // Discovery (inotify, openat of new cgroups) keeps working.
            let layout = try CgroupLayout.detect()
            let cg = try LiveCgroup(layout: layout)
            defer { cg.destroy() }
            var found = false
            let deadline = Date().addingTimeInterval(10)
            while !found && Date() < deadline {
                found = (try? agent.get("/api/v2.0/spec\(cg.name)"))?.status == 200
                if !found { usleep(100_000) }
            }
            #expect(found, "a new cgroup is discovered inside the sandbox")
            usleep(2_500_000) // the monitor logs refusals every 2 s
            agent.child.stop()
            let log = agent.child.log
            #expect(log.contains("msg=\"seccomp sandbox active\"") && log.contains("self_check=\"mount(2) refused with EPERM\""), "\(log)")
            #expect(log.contains("msg=\"seccomp refused a system call with EPERM\"") && log.contains("syscall=mount"), "\(log)")
            // Nothing the agent itself needs was refused: the self-check's mount is the only refusal.
            let refusals = log.split(separator: "\n").filter { $0.contains("seccomp refused") }
            #expect(refusals.allSatisfy { $0.contains("syscall=mount") }, "\(refusals)")
        }

        /// As in the DaemonSet: every capability dropped but the chart's three. Root without
        /// CAP_NET_ADMIN cannot set socket options such as SO_DEBUG; the server must not need any.
        @Test func theDaemonServesWithOnlyTheChartsCapabilities() throws {
            let launcher = ["/usr/bin/setpriv", "--bounding-set=-all,+sys_ptrace,+dac_read_search,+syslog",
                            "--inh-caps=-all", "--no-new-privs", "--"]
            let agent = try RunningAgent([], launcher: launcher)
            defer { agent.child.stop() }
            let pid = agent.child.process.processIdentifier
            #expect(status(pid, "CapEff") == "0000000400080004", "sys_ptrace, dac_read_search, syslog only")
            for path in ["/healthz", "/metrics", "/api/v2.0/stats?recursive=true&count=1", "/stats/summary"] {
                let r = try agent.get(path)
                #expect(r.status == 200 && !r.body.isEmpty, "\(path): \(r.status)")
            }
        }

        /// The `key=value` fields of a logfmt line, values unquoted.
        func fields(_ line: Substring) -> [String: String] {
            var out: [String: String] = [:]
            var rest = line[...]
            while let eq = rest.firstIndex(of: "=") {
                let key = rest[..<eq].trimmed
                var after = rest[rest.index(after: eq)...]
                var value = ""
                if after.first == "\"" {
                    after = after.dropFirst()
                    var escaped = false
                    var end = after.endIndex
                    for i in after.indices {
                        let c = after[i]
                        if escaped { value.append(c); escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { end = i; break } else { value.append(c) }
                    }
                    rest = end < after.endIndex ? after[after.index(after: end)...] : after[after.endIndex...]
                } else {
                    let end = after.firstIndex(of: " ") ?? after.endIndex
                    value = String(after[..<end])
                    rest = after[end...]
                }
                out[String(key)] = value
            }
            return out
        }

        /// Runs the daemon with the probe hook; returns its log (after stopping it) and the probes.
        func probedDaemon(_ extra: [String]) throws -> (log: String, probes: [[String: String]], refused: Set<String>) {
            var environment = ProcessInfo.processInfo.environment
            environment["NODE_METRICS_DEBUG_SANDBOX_PROBE"] = "1"
            let agent = try RunningAgent(extra, environment: environment)
            let pid = agent.child.process.processIdentifier
            let scratch = "/tmp/node-metrics-sandbox-probe-\(pid)"
            defer {
                agent.child.stop()
                unlink(scratch)
            }
            #expect(status(pid, "Seccomp") == "2", "filter mode")
            usleep(2_500_000) // the monitor logs refusals every 2 s
            // Still serving after the probes, threads and all.
            for path in ["/healthz", "/metrics", "/api/v2.0/ps/", "/api/v2.0/stats?recursive=true&count=1", "/stats/summary"] {
                let r = try agent.get(path)
                #expect(r.status == 200 && !r.body.isEmpty, "\(path): \(r.status)")
            }
            #expect(agent.child.process.isRunning)
            #expect(!FileManager.default.fileExists(atPath: scratch), "the refused O_CREAT open created nothing")
            agent.child.stop()
            let lines = agent.child.log.split(separator: "\n")
            let probes = lines.filter { $0.contains("msg=\"sandbox probe\"") }.map(fields)
            let refused = Set(lines.filter { $0.contains("msg=\"seccomp refused a system call with EPERM\"") }
                .compactMap { fields($0)["syscall"] })
            return (lines.joined(separator: "\n"), probes, refused)
        }

        /// Each kind of call the sandbox must refuse, tried for real inside the daemon by the probe hook:
        /// refused with EPERM (ENOSYS for clone3 and openat2), logged by name, and the daemon serves on.
        @Test func eachForbiddenCallIsRefusedForRealAndLoggedByName() throws {
            let (log, probes, refused) = try probedDaemon([])
            #expect(log.contains("msg=\"sandbox probes done\""), "\(log)")
            let byName = Dictionary(probes.compactMap { p in p["probe"].map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
            let expected: [String: String] = [
                "openat O_WRONLY|O_CREAT": "EPERM", "openat O_RDWR": "EPERM", "openat O_RDONLY|O_TRUNC": "EPERM",
                "openat O_WRONLY clear_refs": "EPERM", "openat O_RDONLY": "ok", "openat2": "ENOSYS",
                "fork (clone without CLONE_THREAD)": "EPERM", "clone CLONE_THREAD|CLONE_NEWNET": "EPERM", "clone3": "ENOSYS",
                "pthread_create": "ok", "kill(1, 0)": "EPERM", "kill(parent, 0)": "EPERM", "kill(0, 0)": "EPERM",
                "kill(self, 0)": "ok", "tgkill(1, 1, 0)": "EPERM", "tgkill(self, self, 0)": "ok", "tkill(self, 0)": "EPERM",
                "execve": "EPERM", "execveat": "EPERM", "getrlimit": "ok", "prlimit64 set": "EPERM",
            ]
            for (name, result) in expected {
                #expect(byName[name]?["result"] == result, "\(name): \(byName[name] ?? [:])")
            }
            #expect(probes.allSatisfy { $0["as_expected"] == "true" }, "\(probes)")
            // The refusals reach the log by name, like any other.
            for name in ["openat", "clone", "kill", "tgkill", "tkill", "execve", "execveat", "prlimit64", "mount"] {
                #expect(refused.contains(name), "\(name) not logged: \(refused)")
            }
            // ENOSYS answers are not refusals; nothing else was refused.
            let probed: Set<String> = ["openat", "open", "clone", "fork", "kill", "tgkill", "tkill", "execve", "execveat",
                                       "prlimit64", "mount"]
            #expect(refused.isSubset(of: probed), "\(refused.subtracting(probed))")
        }

        /// With the referenced-memory reset on, an existing file may be opened write-only (clear_refs),
        /// and the collector's writes are not refused; creating, truncating or O_RDWR still are.
        @Test func writeOnlyOpensOnlyForTheReferencedMemoryReset() throws {
            let (log, probes, refused) = try probedDaemon(["-enable_metrics=cpu,memory,referenced_memory", "-referenced_reset_interval=1"])
            #expect(log.contains("opens=\"read-only or write-only (clear_refs)\""), "\(log)")
            let byName = Dictionary(probes.compactMap { p in p["probe"].map { ($0, p) } }, uniquingKeysWith: { a, _ in a })
            #expect(byName["openat O_WRONLY clear_refs"]?["result"] == "ok")
            #expect(byName["openat O_WRONLY|O_CREAT"]?["result"] == "EPERM")
            #expect(byName["openat O_RDWR"]?["result"] == "EPERM")
            #expect(byName["openat O_RDONLY|O_TRUNC"]?["result"] == "EPERM")
            #expect(probes.count > 10 && probes.allSatisfy { $0["as_expected"] == "true" }, "\(probes)")
            #expect(refused.contains("openat"))
        }

        /// A real Swift runtime trap (force-unwrap of nil) on a background thread of the sandboxed daemon:
        /// the crash report names the signal, lists raw frames and symbols of our code, and the process
        /// dies of the trap's own signal — not SIGSYS, and not a hang.
        @Test func aTrapInsideTheSandboxIsReportedAndTheDaemonDiesOfIt() throws {
            var environment = ProcessInfo.processInfo.environment
            environment["NODE_METRICS_DEBUG_TRAP_AFTER"] = "1.5"
            // No core file in the test's directory (the kernel's core_pattern may be a plain "core").
            let agent = try RunningAgent([], environment: environment, launcher: ["/usr/bin/prlimit", "--core=0", "--"])
            defer { agent.child.stop() }
            #expect(status(agent.child.process.processIdentifier, "Seccomp") == "2", "filter mode")
            let deadline = Date().addingTimeInterval(20)
            while agent.child.process.isRunning && Date() < deadline { usleep(100_000) }
            let died = !agent.child.process.isRunning
            agent.child.stop()
            #expect(died, "the daemon hung after the trap")
            let log = agent.child.log
            #expect(agent.child.process.terminationReason == .uncaughtSignal, "\(log)")
            let signal = agent.child.process.terminationStatus
            #expect(signal == SIGILL || signal == SIGTRAP, "died of signal \(signal)")
            #expect(log.contains("seccomp sandbox active"), "\(log)")
            let name = signal == SIGTRAP ? "SIGTRAP" : "SIGILL"
            let lines = log.split(separator: "\n")
            let header = lines.first { $0.hasPrefix("*** node-metrics: fatal signal \(name) (\(signal)), code ") }
            #expect(header?.contains(", pc 0x") == true && header?.contains(", thread ") == true, "\(log)")
            #expect(lines.contains { $0.hasPrefix("*** backtrace: ") && $0.contains(" loaded at 0x") }, "\(log)")
            #expect(lines.contains { $0.hasPrefix("  #0 0x") }, "\(log)")
            #expect(lines.contains { $0.hasPrefix("  #") && $0.contains(" node-metrics+0x") }, "\(log)")
            #expect(lines.contains { $0.hasPrefix("*** addr2line -f -C -i -e ") && $0.contains(" 0x") }, "\(log)")
            // Our code, named and demangled.
            #expect(lines.contains { $0.hasPrefix("  #") && $0.contains("CrashHandler.debugTrap") }, "\(log)")
            #expect(log.contains("*** end of crash report; dying of \(name)"), "\(log)")
            // Neither the Swift runtime's backtracer nor the sandbox got in the way.
            #expect(!log.contains("Backtracing from") && !log.contains("syscall=execve") && !log.contains("SIGSYS"), "\(log)")
        }

        @Test func theFlagTurnsItOff() throws {
            let agent = try RunningAgent(["-seccomp=false"])
            defer { agent.child.stop() }
            #expect(status(agent.child.process.processIdentifier, "Seccomp") == "0")
        }
    }
}
