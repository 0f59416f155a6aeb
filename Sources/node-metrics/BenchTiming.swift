/// The hidden benchmark subcommands' clock (`encode-bench`, `render-bench`).
enum BenchTiming {
    /// `body` run `warmUp` times untimed, then `rounds` times (at least once) timed one by one: the
    /// wall times, fastest first.
    static func sorted(rounds: Int, warmUp: Int, _ body: () -> Void) -> [Duration] {
        for _ in 0..<warmUp { body() }
        let clock = ContinuousClock()
        var out: [Duration] = []
        out.reserveCapacity(max(rounds, 1))
        for _ in 0..<max(rounds, 1) {
            let start = clock.now
            body()
            out.append(start.duration(to: clock.now))
        }
        return out.sorted()
    }
}
