import ArgumentParser
import BenchSupport
import Foundation

/// Workload 5 of the benchmarks issue: a mixed chat day on the real chat.v1 API (tokens, the
/// database, every interceptor). N users in direct chats and groups, each with their app open
/// (a SubscribeUser stream and SubscribeRoom streams on a few rooms), each doing reads, typing,
/// sends, read marks and resubscriptions by weight for a fixed time. Measures every
/// operation's rate and latency, errors by status code, send-to-receipt latency on the
/// streams, and the CPU of chatd and PostgreSQL per operation.
struct MixedCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mixed",
    abstract: "A mixed chat day: many users in many rooms, reads, sends, typing, streams.",
    discussion: """
      Each user's calls and streams go over connection (user index % --connections): give \
      --connections equal to --users for one connection per user, as apps have.
      """)

  @OptionGroup var server: ServerOptions

  @Option(help: "Measured seconds of the day (after the warm-up).")
  var duration = 60.0

  @Option(help: "Seconds of the day before measuring starts (operations run, are not counted).")
  var warmup = 5.0

  @Option(help: "Mean pause of a user between two operations, in milliseconds (exponential).")
  var thinkMs = 500.0

  @Option(help: "Operation weights, name=weight separated by commas.")
  var mix = OperationMix.standard.description

  @Option(help: "Direct chats per user, on average.")
  var directsPerUser = 4

  @Option(help: "Groups (sizes 5-10: 60%, 11-25: 30%, 26-50: 10%); default users / 5.")
  var groups: Int?

  @Option(
    help: "Rooms with a SubscribeRoom stream per user (the conversations their app has open).")
  var openRooms = 2

  @Option(help: "Seed of the rooms and of every user's choices.")
  var seed: UInt64 = 1

  func validate() throws {
    _ = try OperationMix(parsing: mix)
    guard duration > 0, warmup >= 0, thinkMs >= 0 else {
      throw ValidationError("--duration must be positive, --warmup and --think-ms not negative")
    }
    guard server.users >= 2 else { throw ValidationError("--users takes at least 2 here") }
  }

  func run() async throws {
    // The watchdog's default fits the fan-out runs; a day needs its own length on top.
    startWatchdog(seconds: server.watchdog + warmup + duration)
    let setupStart = MonotonicClock.nanos()
    let fixture = try await Fixture.make(secret: server.jwtSecret!, users: server.users)
    let servers = try await Servers.connect(options: server, token: fixture.senderToken)
    try await fixture.register(through: servers.senderClient)
    var random = SplitMix64(seed: seed)
    let plan = MixedPopulation.Plan(
      users: server.users, directsPerUser: directsPerUser, groups: groups ?? server.users / 5,
      random: &random)
    let population = try await MixedPopulation.create(
      plan: plan, openRooms: openRooms, fixture: fixture, servers: servers, random: &random)
    let tally = MixedTally()
    let users = makeUsers(population: population, fixture: fixture, servers: servers, tally: tally)
    let streams = users.flatMap(\.streams)

    var report = Report("mixed")
    report.add("server", "chatd")
    report.add("users", users.count)
    report.add("rooms", population.rooms.count)
    report.add("direct_rooms", population.directRooms)
    report.add("groups", population.rooms.count - population.directRooms)
    report.add("room_streams", streams.count - users.count)
    report.add("user_streams", users.count)
    report.add("connections", server.connections * servers.instances)
    report.add("duration_s", duration, digits: 0)
    report.add("warmup_s", warmup, digits: 0)
    report.add("think_ms", thinkMs, digits: 0)
    report.add("mix", mix)

    // Every app opens its streams at once, as after a server restart.
    let syncStart = MonotonicClock.nanos()
    let openFailures = await withTaskGroup(of: Int.self) { group in
      for stream in streams {
        group.addTask {
          do {
            try await stream.open(timeout: .seconds(90))
            return 0
          } catch {
            tally.failed("open", error)
            return 1
          }
        }
      }
      return await group.reduce(0, +)
    }
    report.add("sync_s", MonotonicClock.seconds(MonotonicClock.nanos() - syncStart))
    report.add("setup_s", MonotonicClock.seconds(MonotonicClock.nanos() - setupStart), digits: 1)
    guard openFailures == 0 else {
      throw BenchmarkFailure(
        "\(openFailures) of \(streams.count) streams did not sync: \(tally.errorSummary)")
    }
    // What the open streams cost while nobody acts (heartbeats, timers, presence): part of
    // every figure per operation below, most visibly at low rates.
    let idleStart = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
    try? await Task.sleep(for: .seconds(2))
    let idle = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid).since(idleStart)
    report.add("server_idle_cpu_pct", Double(idle.serverTotal) / Double(idle.wall) * 100, digits: 1)
    if server.postgresPid != nil {
      report.add(
        "postgres_idle_cpu_pct", Double(idle.postgres) / Double(idle.wall) * 100, digits: 1)
    }
    printProgress(
      "\(users.count) users, \(population.rooms.count) rooms, \(streams.count) streams synced; "
        + "the day starts")

    let start = MonotonicClock.nanos()
    let measureFrom = start + UInt64(warmup * 1e9)
    let day = try MixedUser.Day(
      stopAt: measureFrom + UInt64(duration * 1e9), mix: OperationMix(parsing: mix),
      meanThinkSeconds: thinkMs / 1000, seed: seed)
    tally.measureFrom.store(measureFrom, ordering: .relaxed)
    let window = await withDiscardingTaskGroup { group in
      for user in users { group.addTask { await user.run(day) } }
      return await watch(from: measureFrom, until: day.stopAt, servers: servers)
    }

    // In-flight messages reach their streams; a stream being reopened catches up.
    _ = await waitUntil(timeout: .seconds(15)) {
      tally.roomDeliveries.load(ordering: .relaxed)
        >= tally.expectedRoomDeliveries.load(ordering: .relaxed)
    }
    add(window, tally: tally, servers: servers, to: &report)
    await withDiscardingTaskGroup { group in
      for stream in streams { group.addTask { await stream.close() } }
    }
    server.emit(report)
    await servers.close()
  }

  private func makeUsers(
    population: MixedPopulation, fixture: Fixture, servers: Servers, tally: MixedTally
  ) -> [MixedUser] {
    let tag = MessageTag(run: fixture.run)
    return fixture.memberIDs.indices.map { index in
      let chat = servers.chat(forStream: index)
      let token = fixture.memberTokens[index]
      let stream = { (kind: MixedStream.Kind, afterSeq: UInt64) in
        MixedStream(
          kind: kind, userID: fixture.memberIDs[index], token: token, afterSeq: afterSeq,
          chat: chat, tag: tag, tally: tally)
      }
      // A fresh app: every notification replays once, then live events.
      let userStream = stream(.user, 0)
      var roomStreams: [MixedStream] = []
      let rooms = population.roomsOfUser[index].map { roomIndex in
        let room = population.rooms[roomIndex]
        let streamUsers = population.streamUsersOfRoom[roomIndex]
        var roomStream: MixedStream?
        if streamUsers.contains(index) {
          roomStream = stream(.room(id: room.id), room.lastSeq)
          roomStreams.append(roomStream!)
        }
        return MixedUser.Room(
          id: room.id, otherStreams: streamUsers.count - (roomStream == nil ? 0 : 1),
          stream: roomStream)
      }
      return MixedUser(
        index: index, token: token, chat: chat, rooms: rooms,
        streams: [userStream] + roomStreams, tag: tag, tally: tally)
    }
  }

  /// What the servers used over the measured window, and their peak memory in it.
  private struct Window {
    let use: CPUUse
    let rssStart: Int
    let rssPeak: Int
  }

  /// Waits for the measured window while the users run, sampling server memory every second.
  private func watch(from start: UInt64, until end: UInt64, servers: Servers) async -> Window {
    let rss = { servers.pids.map { ProcessStats.rssBytes($0) ?? 0 }.reduce(0, +) }
    await sleep(until: start)
    let before = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
    let rssStart = rss()
    var rssPeak = rssStart
    while MonotonicClock.nanos() < end {
      await sleep(until: min(end, MonotonicClock.nanos() + 1_000_000_000))
      rssPeak = max(rssPeak, rss())
    }
    let after = CPUSnapshot(servers: servers.pids, postgres: server.postgresPid)
    return Window(use: after.since(before), rssStart: rssStart, rssPeak: rssPeak)
  }

  private func sleep(until nanos: UInt64) async {
    let now = MonotonicClock.nanos()
    guard nanos > now else { return }
    try? await Task.sleep(for: .nanoseconds(nanos - now))
  }

  private func add(
    _ window: Window, tally: MixedTally, servers: Servers, to report: inout Report
  ) {
    let seconds = MonotonicClock.seconds(window.use.wall)
    var operations = 0
    for operation in MixedOperation.allCases {
      let summary = tally.operations[operation]!.summary()
      operations += summary.count
      let name = operation.rawValue
      report.add("\(name)_count", summary.count)
      report.add("\(name)_per_s", Double(summary.count) / seconds, digits: 1)
      report.add("\(name)_p50_ms", summary.milliseconds(at: 50))
      report.add("\(name)_p99_ms", summary.milliseconds(at: 99))
      report.add("\(name)_max_ms", summary.maxMilliseconds)
    }
    report.add("operations", operations)
    report.add("operations_per_s", Double(operations) / seconds, digits: 1)
    report.add("errors", tally.errorCount)
    report.add("errors_by_code", tally.errorSummary)

    let delivered = tally.roomDeliveries.load(ordering: .relaxed)
    let expected = tally.expectedRoomDeliveries.load(ordering: .relaxed)
    report.add("room_deliveries", delivered)
    report.add("room_missing", max(0, expected - delivered))
    report.add("disordered", tally.disordered.load(ordering: .relaxed))
    for (name, latencies) in [("room", tally.roomLatency), ("user", tally.userLatency)] {
      let summary = latencies.summary()
      report.add("\(name)_latency_samples", summary.count)
      report.add("\(name)_latency_p50_ms", summary.milliseconds(at: 50))
      report.add("\(name)_latency_p99_ms", summary.milliseconds(at: 99))
      report.add("\(name)_latency_max_ms", summary.maxMilliseconds)
    }
    report.add("user_deliveries", tally.userDeliveries.load(ordering: .relaxed))
    report.add("typing_received", tally.typingReceived.load(ordering: .relaxed))

    let perOperation = { (nanos: UInt64) in
      operations > 0 ? Double(nanos) / 1000 / Double(operations) : 0
    }
    let percent = { (nanos: UInt64) in Double(nanos) / Double(window.use.wall) * 100 }
    report.add("server_cpu_us_per_op", perOperation(window.use.serverTotal), digits: 1)
    report.add("server_cpu_pct", percent(window.use.serverTotal), digits: 0)
    if server.postgresPid != nil {
      report.add("postgres_cpu_us_per_op", perOperation(window.use.postgres), digits: 1)
      report.add("postgres_cpu_pct", percent(window.use.postgres), digits: 0)
    }
    report.add("client_cpu_pct", percent(window.use.client), digits: 0)
    if !servers.pids.isEmpty {
      report.add("server_rss_start_mib", Double(window.rssStart) / 1_048_576, digits: 1)
      report.add("server_rss_peak_mib", Double(window.rssPeak) / 1_048_576, digits: 1)
    }
    report.addServerState(pids: servers.pids)
    report.add(
      "client_rss_mib", Double(ProcessStats.rssBytes(getpid()) ?? 0) / 1_048_576, digits: 1)
  }
}
