import ArgumentParser
import BenchSupport
import Foundation

/// Workloads 1 and 3: one room, N subscribers (split over the instances given), one sender
/// on the first instance sending M messages at a fixed rate. Measures send-to-receipt latency
/// of every delivery, deliveries per second, and CPU per delivery over the measured window.
struct FanoutCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fanout", abstract: "One room, many subscribers, one sender.")

  @OptionGroup var server: ServerOptions

  @Option(help: "SubscribeRoom streams on the room.")
  var subscribers = 1000

  @Option(help: "Measured messages.")
  var messages = 50

  @Option(help: "Messages per second (0: back to back, one at a time).")
  var rate = 10.0

  @Option(help: "Seconds to wait for every stream to be synced.")
  var syncTimeout = 120.0

  @Option(help: "Seconds to wait for the last deliveries after the last send was answered.")
  var drainTimeout = 20.0

  func run() async throws {
    let secret = server.jwtSecret!
    startWatchdog(seconds: server.watchdog)
    let fixture = try await Fixture.make(secret: secret, users: server.users)
    let servers = try await Servers.connect(options: server, token: fixture.senderToken)
    try await fixture.register(through: servers.senderClient)
    let members = min(subscribers, server.users)
    let room = try await fixture.createGroup(
      members: members, title: "fanout \(subscribers)", through: servers.sender)
    let roomID = room.id
    let tag = MessageTag(run: fixture.run)
    let sender = Sender(
      chat: servers.sender, roomID: roomID, token: fixture.senderToken, tag: tag)
    let progress = Progress()
    // Per instance: the sender is on instance 0, so its subscribers measure fan-out within
    // one process and the others' the way across the bus (NOTIFY, then a read per instance).
    let latencies = (0..<servers.instances).map { _ in Latencies() }
    let subscribers = subscribers
    var report = Report("fanout")
    report.add("instances", servers.instances)
    report.add("subscribers", subscribers)
    report.add("members", members)
    report.add("connections", server.connections * servers.instances)
    report.add("messages", messages)
    report.add("rate", rate, digits: 0)

    try await withThrowingDiscardingTaskGroup { group in
      // Every stream at once, as a reconnect storm would open them.
      let openStart = MonotonicClock.nanos()
      for index in 0..<subscribers {
        let subscriber = Subscriber(
          chat: servers.chat(forStream: index), roomID: roomID, afterSeq: room.lastSeq,
          token: fixture.memberTokens[index % members], tag: tag, expected: messages,
          progress: progress, latencies: latencies[servers.instance(ofStream: index)])
        group.addTask { await subscriber.run() }
      }
      let allSynced = await waitUntil(
        timeout: .seconds(syncTimeout), report: .seconds(2),
        progress: { "synced \(progress.synced.load(ordering: .relaxed))/\(subscribers)" }
      ) {
        progress.synced.load(ordering: .relaxed) + progress.failed.load(ordering: .relaxed)
          >= subscribers
      }
      report.add("sync_s", MonotonicClock.seconds(MonotonicClock.nanos() - openStart))
      let failed = progress.failed.load(ordering: .relaxed)
      guard allSynced, failed == 0 else {
        throw BenchmarkFailure(
          "\(progress.synced.load(ordering: .relaxed)) of \(subscribers) streams synced, "
            + "\(failed) failed: \(progress.error ?? "timeout")")
      }

      // One message end to end first: every stream is live and every path warm.
      try await sender.send(clientMsgID: tag.warmUpID)
      guard
        await waitUntil(
          timeout: .seconds(30), { progress.warm.load(ordering: .relaxed) >= subscribers })
      else {
        throw BenchmarkFailure(
          "the warm-up message reached \(progress.warm.load(ordering: .relaxed)) of "
            + "\(subscribers) streams")
      }
      try? await Task.sleep(for: .milliseconds(300))

      let before = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
      let sends = await sender.run(messages: messages, rate: rate)
      let expected = subscribers * (messages - sends.failures)
      _ = await waitUntil(timeout: .seconds(drainTimeout)) {
        progress.deliveries.load(ordering: .relaxed) >= expected
      }
      let after = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
      report.addServerState(pids: servers.pids)
      group.cancelAll()

      let use = after.since(before)
      let deliveries = progress.deliveries.load(ordering: .relaxed)
      // The window ends at the last delivery, not at the poll that noticed it.
      let last = progress.lastDelivery.load(ordering: .relaxed)
      let window = last > before.at ? last - before.at : use.wall
      report.add("send_failures", sends.failures)
      report.add("deliveries", deliveries)
      report.add("missing", max(0, subscribers * messages - deliveries))
      report.add("disordered", progress.disordered.load(ordering: .relaxed))
      report.add("window_s", MonotonicClock.seconds(window), digits: 3)
      report.add("deliveries_per_s", Double(deliveries) / MonotonicClock.seconds(window), digits: 0)
      let perDelivery = { (nanos: UInt64) in
        deliveries > 0 ? Double(nanos) / 1000 / Double(deliveries) : 0
      }
      report.add("server_cpu_us_per_delivery", perDelivery(use.serverTotal))
      report.add("server_cpu_pct", Double(use.serverTotal) / Double(use.wall) * 100, digits: 0)
      if use.servers.count > 1 {
        report.add(
          "server_cpu_pct_each",
          use.servers.map { String(format: "%.0f", Double($0) / Double(use.wall) * 100) }
            .joined(separator: ","))
      }
      if server.postgresPid != nil {
        report.add(
          "postgres_cpu_us_per_message",
          Double(use.postgres) / 1000 / Double(max(1, messages - sends.failures)), digits: 0)
      }
      report.add("client_cpu_us_per_delivery", perDelivery(use.client))
      report.add("client_cpu_pct", Double(use.client) / Double(use.wall) * 100, digits: 0)
      report.add("ack_p50_ms", sends.acks.milliseconds(at: 50))
      report.add("ack_p99_ms", sends.acks.milliseconds(at: 99))
      if let error = sends.firstError { printProgress("send failed: \(error)") }
    }
    let summary = Latencies.summary(of: latencies)
    report.add("latency_p50_ms", summary.milliseconds(at: 50))
    report.add("latency_p99_ms", summary.milliseconds(at: 99))
    report.add("latency_max_ms", summary.maxMilliseconds)
    if latencies.count > 1 {
      for (name, part) in [
        ("local", latencies[0].summary()), ("remote", Latencies.summary(of: latencies.dropFirst())),
      ] {
        report.add("\(name)_deliveries", part.count)
        report.add("\(name)_p50_ms", part.milliseconds(at: 50))
        report.add("\(name)_p99_ms", part.milliseconds(at: 99))
        report.add("\(name)_max_ms", part.maxMilliseconds)
      }
    }
    report.add(
      "client_rss_mib", Double(ProcessStats.rssBytes(getpid()) ?? 0) / 1_048_576, digits: 1)
    server.emit(report)
    await servers.close()
  }
}
