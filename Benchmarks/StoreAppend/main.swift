// The durable message append (SendMessage's transaction) at N concurrent writers, all in
// one room, through the real ChatStore stack: pool, nonblocking libpq, chat_append_message.
// Usage: StoreAppend URL WRITERS SECONDS  -> prints "writers=N messages=M rate=R/s"
import ChatStore
import Foundation

func benchmark(url: String, writers: Int, seconds: Double) async throws {
  var configuration = StoreConfiguration(databaseURL: url)
  configuration.maxConnections = writers
  let store = try await Store.open(configuration)
  let run = UUID().uuidString.prefix(8)
  _ = try await store.users.upsert(id: "bench-a-\(run)", displayName: "A", avatarURL: "")
  _ = try await store.users.upsert(id: "bench-b-\(run)", displayName: "B", avatarURL: "")
  let room = try await store.rooms.startDirect(user: "bench-a-\(run)", peer: "bench-b-\(run)").room
  let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
  let start = ContinuousClock.now
  let total = try await withThrowingTaskGroup(of: Int.self) { group in
    for writer in 0..<writers {
      group.addTask {
        var sent = 0
        while ContinuousClock.now < deadline {
          _ = try await store.messages.send(
            roomID: room.id, sender: writer % 2 == 0 ? "bench-a-\(run)" : "bench-b-\(run)",
            clientMsgID: "\(writer)-\(sent)", body: "benchmark message \(sent)")
          sent += 1
        }
        return sent
      }
    }
    return try await group.reduce(0, +)
  }
  let elapsed = ContinuousClock.now - start
  let rate =
    Double(total)
    / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
  print("writers=\(writers) messages=\(total) rate=\(Int(rate))/s")
  store.pool.shutdown()
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let writers = Int(arguments[2]), let seconds = Double(arguments[3])
else {
  print("usage: StoreAppend URL WRITERS SECONDS")
  exit(2)
}
try await benchmark(url: arguments[1], writers: writers, seconds: seconds)
