// The durable message append (SendMessage's transaction) at N concurrent writers, all in
// one room, through the real ChatStore stack: pool, nonblocking libpq, group commit
// (chat_send_batch).
// Usage: StoreAppend URL WRITERS SECONDS [RATE] (SECONDS measured after a half-second warm-up)
//   flat out (closed loop): each writer sends its next message when the last one is durable;
//     prints "writers=N messages=M rate=R/s p50=Xms p99=Yms"
//   with RATE (open loop): the writers together offer RATE messages/s on a fixed schedule, and
//     a send's latency counts from when it was due, so a backlog shows in the percentiles
//     instead of slowing the offered load down; prints the same plus "offered=RATE/s"
import ChatStore
import Foundation

func benchmark(url: String, writers: Int, rooms: Int, seconds: Double, offered: Double?)
  async throws
{
  var configuration = StoreConfiguration(databaseURL: url)
  configuration.maxConnections = writers
  // STORE_PREPARED_STATEMENTS=off: statements unnamed, to compare with the default.
  configuration.preparedStatements =
    ProcessInfo.processInfo.environment["STORE_PREPARED_STATEMENTS"] != "off"
  // STORE_BATCHES_IN_FLIGHT: SendMessage's batches in flight at once (default: the store's).
  if let inFlight = Int(ProcessInfo.processInfo.environment["STORE_BATCHES_IN_FLIGHT"] ?? "") {
    configuration.sendBatchesInFlight = inFlight
  }
  let store = try await Store.open(configuration)
  let run = UUID().uuidString.prefix(8)
  // Writer w sends in room w % rooms: a direct chat of users a-r and b-r, alternating.
  var ids: [String] = []
  for index in 0..<rooms {
    let (a, b) = ("bench-a\(index)-\(run)", "bench-b\(index)-\(run)")
    _ = try await store.users.upsert(id: a, displayName: "A", avatarURL: "")
    _ = try await store.users.upsert(id: b, displayName: "B", avatarURL: "")
    ids.append(try await store.rooms.startDirect(user: a, peer: b).room.id)
  }
  let roomIDs = ids
  // The first half second is sent like the rest but not counted: it opens the pool's
  // connections and plans their statements, which a running server did long ago.
  let start = ContinuousClock.now
  let measuredFrom = start + .milliseconds(500)
  let deadline = measuredFrom + .milliseconds(Int(seconds * 1000))
  // Open loop: writer w's k-th send is due at start + (k + w / writers) * writers / offered.
  let interval = offered.map { Duration.seconds(Double(writers) / $0) }
  let latencies = try await withThrowingTaskGroup(of: [Duration].self) { group in
    for writer in 0..<writers {
      group.addTask {
        var latencies: [Duration] = []
        var sent = 0
        var due = start
        if let interval { due += interval * (Double(writer) / Double(writers)) }
        while due < deadline {
          if interval != nil { try await Task.sleep(until: due, clock: .continuous) }
          let begin = interval == nil ? ContinuousClock.now : due
          let room = writer % rooms
          let sender = (writer / rooms) % 2 == 0 ? "bench-a\(room)-\(run)" : "bench-b\(room)-\(run)"
          _ = try await store.messages.send(
            roomID: roomIDs[room], sender: sender, clientMsgID: "\(writer)-\(sent)",
            body: "benchmark message \(sent)")
          sent += 1
          let now = ContinuousClock.now
          if begin >= measuredFrom { latencies.append(now - begin) }
          due = interval.map { due + $0 } ?? now
        }
        return latencies
      }
    }
    return try await group.reduce(into: []) { $0 += $1 }.sorted()
  }
  let elapsed = ContinuousClock.now - measuredFrom
  let rate = Double(latencies.count) / milliseconds(elapsed) * 1000
  let percentile = { (p: Double) -> String in
    guard !latencies.isEmpty else { return "-" }
    let value = latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]
    return String(format: "%.1fms", milliseconds(value))
  }
  print(
    "writers=\(writers) rooms=\(rooms)\(offered.map { " offered=\(Int($0))/s" } ?? "")"
      + " messages=\(latencies.count) rate=\(Int(rate))/s p50=\(percentile(0.5))"
      + " p99=\(percentile(0.99))")
  await store.close()
}

func milliseconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}

let arguments = CommandLine.arguments
guard arguments.count == 4 || arguments.count == 5, let writers = Int(arguments[2]),
  let seconds = Double(arguments[3])
else {
  print("usage: StoreAppend URL WRITERS SECONDS [RATE]")
  exit(2)
}
let offered = arguments.count == 5 ? Double(arguments[4]).flatMap { $0 > 0 ? $0 : nil } : nil
if arguments.count == 5 && offered == nil {
  print("StoreAppend: RATE must be a positive number of messages per second")
  exit(2)
}
// STORE_ROOMS spreads the writers over that many rooms (default 1: all in one room).
let rooms = max(1, min(writers, Int(ProcessInfo.processInfo.environment["STORE_ROOMS"] ?? "") ?? 1))
do {
  try await benchmark(
    url: arguments[1], writers: writers, rooms: rooms, seconds: seconds, offered: offered)
} catch {
  // The server's message too: StoreError's description names only the kind.
  // On stderr: Benchmarks/StoreAppend/run reads stdout through sed.
  FileHandle.standardError.write(
    Data("StoreAppend failed: \(error) \((error as? StoreError)?.serverMessage ?? "")\n".utf8))
  exit(1)
}
