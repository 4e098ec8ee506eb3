import ArgumentParser
import BenchProtos
import BenchSupport
import Foundation
import RPCCore

/// Workload 3: one room, N Subscribe streams over C connections, all opened at once, then M
/// Sends at a fixed rate from a connection of their own. Measures send-to-receipt latency of
/// every delivery, deliveries per second, lost deliveries and server CPU per delivery over
/// the send phase.
struct FanoutCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fanout", abstract: "One room, many subscribers, one sender.")

  @OptionGroup var options: TargetOptions

  @Option(help: "Subscribe streams on the room.")
  var subscribers = 1000

  @Option(help: "Measured messages.")
  var messages = 50

  @Option(help: "Messages per second (0: back to back, one at a time).")
  var rate = 10.0

  @Option(help: "Seconds to wait for every stream to receive the warm-up.")
  var openTimeout = 120.0

  @Option(help: "Seconds to wait for the last deliveries after the last Send was answered.")
  var drainTimeout = 20.0

  func run() async throws {
    startWatchdog(seconds: options.watchdog)
    let connections = try await Connections.open(options, count: options.connections)
    let roomID = "fanout-\(TargetOptions.run)"
    let progress = Progress(connections: options.connections)
    let latencies = Latencies()
    let subscribers = subscribers
    var report = options.report("fanout")
    report.add("subscribers", subscribers)
    report.add("messages", messages)
    report.add("rate", rate, digits: 0)

    try await withThrowingDiscardingTaskGroup { group in
      // Every stream at once, as a reconnect storm would open them.
      let openStart = MonotonicClock.nanos()
      for index in 0..<subscribers {
        let subscriber = Subscriber(
          client: connections.client(forStream: index), roomID: roomID, expected: messages,
          progress: progress,
          shard: progress.shard(forConnection: connections.index(ofStream: index)),
          latencies: latencies)
        group.addTask { await subscriber.run() }
      }
      let allLive = await warmUp(
        rooms: [roomID], sender: connections.sender, streams: subscribers, progress: progress,
        timeout: .seconds(openTimeout))
      report.add("open_s", MonotonicClock.seconds(MonotonicClock.nanos() - openStart))
      report.add("open_failed", progress.failed.load(ordering: .relaxed))
      guard allLive else {
        report.add("live", progress.live.load(ordering: .relaxed))
        report.add("error", progress.error ?? "not every stream was live within \(openTimeout) s")
        report.printJSON()
        limitTeardown(exitCode: 1)
        throw BenchmarkFailure(
          "\(progress.live.load(ordering: .relaxed)) of \(subscribers) streams live, "
            + "\(progress.failed.load(ordering: .relaxed)) failed: \(progress.error ?? "timeout")")
      }
      // Let the warm-up deliveries finish before the measured window starts.
      try? await Task.sleep(for: .milliseconds(300))

      let before = CPUSnapshot(servers: options.pids, postgres: nil)
      let sends = await send(through: connections.sender, roomID: roomID)
      let expected = subscribers * (messages - sends.failures)
      _ = await waitUntil(timeout: .seconds(drainTimeout)) {
        progress.deliveries >= expected
      }
      let after = CPUSnapshot(servers: options.pids, postgres: nil)
      report.addServerState(pids: options.pids)
      group.cancelAll()

      let use = after.since(before)
      let deliveries = progress.deliveries
      // The window ends at the last delivery, not at the poll that noticed it.
      let last = progress.lastDelivery
      let window = last > before.at ? last - before.at : use.wall
      report.add("send_failures", sends.failures)
      report.add("deliveries", deliveries)
      report.add("lost", max(0, subscribers * messages - deliveries))
      report.add("disordered", progress.disordered)
      report.add("window_s", MonotonicClock.seconds(window), digits: 3)
      report.add("deliveries_per_s", Double(deliveries) / MonotonicClock.seconds(window), digits: 0)
      if !options.pids.isEmpty {
        report.add(
          "server_cpu_us_per_delivery",
          deliveries > 0 ? Double(use.serverTotal) / 1000 / Double(deliveries) : 0)
        report.add("server_cpu_pct", Double(use.serverTotal) / Double(use.wall) * 100, digits: 0)
      }
      report.add("client_cpu_pct", Double(use.client) / Double(use.wall) * 100, digits: 0)
      report.add("send_p50_ms", sends.acks.milliseconds(at: 50), digits: 3)
      report.add("send_p99_ms", sends.acks.milliseconds(at: 99), digits: 3)
      if let error = sends.firstError { printProgress("send failed: \(error)") }
    }
    // After the group: each stream hands its samples over when it ends.
    let summary = latencies.summary()
    report.add("latency_p50_ms", summary.milliseconds(at: 50), digits: 3)
    report.add("latency_p99_ms", summary.milliseconds(at: 99), digits: 3)
    report.add("latency_max_ms", summary.maxMilliseconds, digits: 3)
    report.add(
      "client_rss_mib", Double(ProcessStats.rssBytes(getpid()) ?? 0) / 1_048_576, digits: 1)
    report.printJSON()
    limitTeardown(exitCode: 0)
    await connections.close()
  }

  struct SendResult {
    /// Send latency (call to reply), per message.
    let acks: Latencies.Summary
    let failures: Int
    let firstError: String?
  }

  /// Open loop: message i leaves at start + i / rate whether or not earlier Sends have been
  /// answered, so a slow answer does not delay (and hide) the messages after it. Rate 0 sends
  /// back to back, one at a time.
  private func send(through chat: Bench_V1_Chat.Client, roomID: String) async -> SendResult {
    let acks = Latencies()
    let failures = Progress()
    let one: @Sendable (Int) async -> Void = { index in
      var request = Bench_V1_SendRequest()
      request.roomId = roomID
      request.clientMsgId = "\(TargetOptions.run)-\(index)"
      let start = MonotonicClock.nanos()
      request.body = Body.measured(sentAt: start)
      do {
        _ = try await chat.send(request, options: CallOptions(timeout: .seconds(30)))
        acks.add([MonotonicClock.nanos() - start])
      } catch {
        failures.fail(error)
      }
    }
    if rate <= 0 {
      for index in 0..<messages { await one(index) }
    } else {
      let start = ContinuousClock.now
      await withDiscardingTaskGroup { group in
        for index in 0..<messages {
          let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
          try? await Task.sleep(until: due, clock: .continuous)
          group.addTask { await one(index) }
        }
      }
    }
    return SendResult(
      acks: acks.summary(), failures: failures.failed.load(ordering: .relaxed),
      firstError: failures.error)
  }
}
