import Foundation
import Testing
@testable import NodeMetrics

extension InotifyUsers {
    /// `-map_code_on_touch` (issue 16's resident memory): the agent's code mapped page by page as it
    /// runs (a userfaultfd turns the kernel's fault-around off for its read-only file mappings).
    @Suite(.serialized) struct CodePagesTests {
        /// Whether this kernel has asynchronous userfaultfd write-protection (Linux 6.7).
        static var kernelHasWPAsync: Bool {
            var u = utsname()
            uname(&u)
            let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            let parts = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
            guard parts.count == 2 else { return false }
            return parts[0] > 6 || (parts[0] == 6 && parts[1] >= 7)
        }

        /// kB resident of the agent's executable code (its binary's executable mappings).
        static func residentCode(_ pid: Int32) -> Int {
            let smaps = (try? String(contentsOfFile: "/proc/\(pid)/smaps", encoding: .utf8)) ?? ""
            var inCode = false, total = 0
            for line in smaps.split(separator: "\n") {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if let range = f.first, range.contains("-"), f.count >= 2, range.allSatisfy({ $0.isHexDigit || $0 == "-" }) {
                    inCode = f[1].hasPrefix("r-x") && (f.last.map { $0.hasSuffix("/node-metrics") } ?? false)
                } else if inCode, f.first == "Rss:", f.count >= 2, let kb = Int(f[1]) {
                    total += kb
                }
            }
            return total
        }

        static func hasUserfaultfd(_ pid: Int32) -> Bool {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
            return fds.contains { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)")) == "anon_inode:[userfaultfd]" }
        }

        /// The same agent with and without the flag, serving the same requests inside the sandbox
        /// after a rescan (which unmaps the code and constants mapped so far, RELRO left alone):
        /// with it, a userfaultfd is open, the log says so, and far less of the code is resident.
        @Test func codeIsMappedPageByPageAsItRuns() throws {
            var resident: [Bool: Int] = [:]
            for on in [true, false] {
                let agent = try RunningAgent(["-map_code_on_touch=\(on)", "-global_housekeeping_interval=1s"])
                defer { agent.child.stop() }
                let pid = agent.child.process.processIdentifier
                usleep(2_500_000) // past the first rescan
                for path in ["/metrics", "/api/v1.3/containers/", "/api/v2.0/stats?recursive=true&count=1", "/stats/summary", "/validate/"] {
                    let r = try agent.get(path)
                    #expect(r.status == 200 && !r.body.isEmpty, "\(path) with -map_code_on_touch=\(on): \(r.status)")
                }
                resident[on] = Self.residentCode(pid)
                let fd = Self.hasUserfaultfd(pid)
                agent.child.stop()
                let log = agent.child.log
                if on && Self.kernelHasWPAsync {
                    #expect(fd, "the userfaultfd stays open")
                    #expect(log.contains("msg=\"code mapped page by page as it runs\""), "\(log.prefix(2000))")
                } else if on {
                    #expect(log.contains("code mapped with the kernel's fault-around"), "\(log.prefix(2000))")
                } else {
                    #expect(!fd && !log.contains("code mapped"), "\(log.prefix(2000))")
                }
            }
            if Self.kernelHasWPAsync, let on = resident[true], let off = resident[false] {
                print("CodePagesTests: resident code \(on) kB with the flag, \(off) kB without")
                #expect(on > 0 && Double(on) < 0.8 * Double(off), "resident code: \(on) kB with the flag, \(off) kB without")
            }
        }
    }
}
