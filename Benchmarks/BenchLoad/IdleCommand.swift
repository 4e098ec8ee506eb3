import ArgumentParser
import BenchProtos
import BenchSupport
import Foundation

/// Workload 4: N Subscribe streams over C connections (C = N: each its own connection), all
/// opened at once and then idle. Measures what an open stream costs the server: RSS growth
/// per stream (connections included: what they cost is part of a subscriber's cost when each
/// has its own), descriptors, idle CPU; and whether every stream opened without an error.
struct IdleCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "idle", abstract: "Many idle streams.")

  @OptionGroup var options: TargetOptions

  @Option(help: "Subscribe streams to open.")
  var streams = 10_000

  @Option(help: "Rooms the streams are spread over.")
  var rooms = 1

  @Option(help: "Seconds to hold the streams open before measuring.")
  var hold = 3.0

  @Option(help: "Seconds to wait for every stream to receive the warm-up.")
  var openTimeout = 180.0

  func validate() throws {
    guard streams > 0, rooms > 0 else { throw ValidationError("--streams and --rooms > 0") }
  }

  func run() async throws {
    startWatchdog(seconds: options.watchdog)
    let roomIDs = (0..<rooms).map { "idle-\(TargetOptions.run)-\($0)" }
    let progress = Progress(connections: options.connections)
    let latencies = Latencies()
    let streams = streams
    var report = options.report("idle")
    report.add("streams", streams)
    report.add("rooms", rooms)

    // The server has answered a call and settled: what the connections and streams add is
    // measured from here.
    let setup = try await Connections.open(options, count: 0)
    try? await Task.sleep(for: .milliseconds(500))
    let rssBefore = options.pids.map { ProcessStats.rssBytes($0) ?? 0 }.reduce(0, +)
    let fdsBefore = options.pids.map { ProcessStats.fileDescriptors($0) ?? 0 }.reduce(0, +)
    let clientBefore = ProcessStats.rssBytes(getpid()) ?? 0
    var failed = false
    let openStart = MonotonicClock.nanos()
    let connections = try await Connections.open(options, count: options.connections)
    report.add("connect_s", MonotonicClock.seconds(MonotonicClock.nanos() - openStart))

    try await withThrowingDiscardingTaskGroup { group in
      let streamsStart = MonotonicClock.nanos()
      for index in 0..<streams {
        let subscriber = Subscriber(
          client: connections.client(forStream: index), roomID: roomIDs[index % roomIDs.count],
          expected: 0, progress: progress,
          shard: progress.shard(forConnection: connections.index(ofStream: index)),
          latencies: latencies)
        group.addTask { await subscriber.run() }
      }
      let allLive = await warmUp(
        rooms: roomIDs, sender: setup.sender, streams: streams, progress: progress,
        timeout: .seconds(openTimeout), interval: .milliseconds(250))
      report.add("open_s", MonotonicClock.seconds(MonotonicClock.nanos() - streamsStart))
      report.add("live", progress.live.load(ordering: .relaxed))
      report.add("open_failed", progress.failed.load(ordering: .relaxed))
      failed =
        progress.failed.load(ordering: .relaxed) > 0
        || progress.live.load(ordering: .relaxed) < streams
      if !allLive {
        let live = progress.live.load(ordering: .relaxed)
        let error =
          progress.error.map { "a stream failed: \($0)" }
          ?? "only \(live) of \(streams) streams were live within \(openTimeout) s"
        report.add("error", error)
        printProgress(error)
      }

      let before = CPUSnapshot(servers: options.pids, postgres: nil)
      try? await Task.sleep(for: .seconds(hold))
      let use = CPUSnapshot(servers: options.pids, postgres: nil).since(before)
      let rssAfter = options.pids.map { ProcessStats.rssBytes($0) ?? 0 }.reduce(0, +)
      let clientAfter = ProcessStats.rssBytes(getpid()) ?? 0
      if !options.pids.isEmpty {
        report.add("server_rss_before_mib", Double(rssBefore) / 1_048_576, digits: 1)
        report.add("server_rss_after_mib", Double(rssAfter) / 1_048_576, digits: 1)
        report.add(
          "server_kib_per_stream", Double(rssAfter - rssBefore) / 1024 / Double(streams),
          digits: 2)
        report.add("server_fds_before", fdsBefore)
        report.add(
          "server_fds", options.pids.map { ProcessStats.fileDescriptors($0) ?? 0 }.reduce(0, +))
        report.add(
          "server_idle_cpu_pct", Double(use.serverTotal) / Double(use.wall) * 100, digits: 1)
      }
      report.add(
        "client_kib_per_stream", Double(clientAfter - clientBefore) / 1024 / Double(streams),
        digits: 2)
      // The streams end with the process: ending them is not measured, and scripts/bench
      // stops the server after each run anyway (closing 50,000 streams one by one took
      // seconds of the run's 20 minutes).
      report.printJSON()
      fflush(nil)
      Foundation.exit(failed ? 1 : 0)
    }
  }
}
