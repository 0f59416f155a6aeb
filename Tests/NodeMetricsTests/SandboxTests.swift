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

        @Test func theFlagTurnsItOff() throws {
            let agent = try RunningAgent(["-seccomp=false"])
            defer { agent.child.stop() }
            #expect(status(agent.child.process.processIdentifier, "Seccomp") == "0")
        }
    }
}
