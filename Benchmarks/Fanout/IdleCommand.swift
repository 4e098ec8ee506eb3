import ArgumentParser
import BenchSupport
import Foundation

/// Workload 2: N SubscribeRoom streams spread over several rooms, all synced and then idle.
/// Measures what an open stream costs the server: RSS per stream, descriptors, idle CPU.
struct IdleCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "idle", abstract: "Many idle streams over a few rooms.")

  @OptionGroup var server: ServerOptions

  @Option(help: "SubscribeRoom streams to open.")
  var streams = 10_000

  @Option(help: "Rooms the streams are spread over (every member user is in every room).")
  var rooms = 50

  @Option(help: "Seconds to hold the synced streams open before measuring.")
  var hold = 3.0

  @Option(help: "Seconds to wait for every stream to be synced.")
  var syncTimeout = 180.0

  func run() async throws {
    let secret = server.jwtSecret!
    startWatchdog(seconds: server.watchdog)
    let fixture = try await Fixture.make(secret: secret, users: server.users)
    let servers = try await Servers.connect(options: server, token: fixture.senderToken)
    try await fixture.register(through: servers.senderClient)
    var roomIDs: [(id: String, lastSeq: UInt64)] = []
    for index in 0..<rooms {
      roomIDs.append(
        try await fixture.createGroup(
          members: server.users, title: "idle \(index)", through: servers.sender))
    }
    let progress = Progress()
    let latencies = Latencies()
    let tag = MessageTag(run: fixture.run)
    let streams = streams
    let members = server.users
    var report = Report("idle")
    report.add("instances", servers.instances)
    report.add("streams", streams)
    report.add("rooms", rooms)
    report.add("connections", server.connections * servers.instances)

    // Setup is done and its garbage settled: what the streams add is measured from here.
    try? await Task.sleep(for: .seconds(1))
    let rssBefore = servers.pids.map { ProcessStats.rssBytes($0) ?? 0 }.reduce(0, +)
    let clientBefore = ProcessStats.rssBytes(getpid()) ?? 0

    try await withThrowingDiscardingTaskGroup { group in
      let openStart = MonotonicClock.nanos()
      for index in 0..<streams {
        // Consecutive streams go to different rooms and users, so each room sees each of
        // its members about equally often.
        let room = roomIDs[index % roomIDs.count]
        let subscriber = Subscriber(
          chat: servers.chat(forStream: index), roomID: room.id, afterSeq: room.lastSeq,
          token: fixture.memberTokens[(index / roomIDs.count) % members], tag: tag, expected: 0,
          progress: progress, latencies: latencies)
        group.addTask { await subscriber.run() }
      }
      let allSynced = await waitUntil(
        timeout: .seconds(syncTimeout), report: .seconds(5),
        progress: { "synced \(progress.synced.load(ordering: .relaxed))/\(streams)" }
      ) {
        progress.synced.load(ordering: .relaxed) + progress.failed.load(ordering: .relaxed)
          >= streams
      }
      report.add("sync_s", MonotonicClock.seconds(MonotonicClock.nanos() - openStart))
      report.add("synced", progress.synced.load(ordering: .relaxed))
      report.add("failed", progress.failed.load(ordering: .relaxed))
      if let error = progress.error { printProgress("a stream failed: \(error)") }
      if !allSynced { printProgress("not every stream synced within \(syncTimeout) s") }

      let before = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
      try? await Task.sleep(for: .seconds(hold))
      let use = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid).since(before)
      let rssAfter = servers.pids.map { ProcessStats.rssBytes($0) ?? 0 }.reduce(0, +)
      let clientAfter = ProcessStats.rssBytes(getpid()) ?? 0
      if !servers.pids.isEmpty {
        report.add("server_rss_before_mib", Double(rssBefore) / 1_048_576, digits: 1)
        report.add("server_rss_after_mib", Double(rssAfter) / 1_048_576, digits: 1)
        report.add(
          "server_kib_per_stream", Double(rssAfter - rssBefore) / 1024 / Double(streams),
          digits: 2)
        report.add(
          "server_fds", servers.pids.map { ProcessStats.fileDescriptors($0) ?? 0 }.reduce(0, +))
        report.add(
          "server_idle_cpu_pct", Double(use.serverTotal) / Double(use.wall) * 100, digits: 1)
      }
      report.add(
        "client_kib_per_stream", Double(clientAfter - clientBefore) / 1024 / Double(streams),
        digits: 2)
      group.cancelAll()
    }
    server.emit(report)
    await servers.close()
  }
}
