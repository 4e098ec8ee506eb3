import Foundation
import Synchronization
import Testing

@testable import ChatStore

@Suite struct FirehoseTests {
  @Test func resumingFromCursorsLosesAndRepeatsNothingUnderConcurrentCommits() async throws {
    let store = try await makeTestStore(maxConnections: 8)
    try await store.makeUsers("a", "b")
    let rooms = [
      try await store.rooms.createGroup(owner: "a", title: "1", members: ["b"]).id,
      try await store.rooms.createGroup(owner: "a", title: "2", members: ["b"]).id,
    ]
    let finished = Atomic<Bool>(false)
    let writers = Task {
      defer { finished.store(true, ordering: .sequentiallyConsistent) }
      try await withThrowingTaskGroup(of: Void.self) { group in
        for writer in 0..<4 {
          group.addTask {
            for index in 0..<15 {
              _ = try await store.messages.send(
                roomID: rooms[(writer + index) % 2], sender: writer % 2 == 0 ? "a" : "b",
                clientMsgID: "w\(writer)-\(index)", body: "x")
            }
          }
        }
        try await group.waitForAll()
      }
    }
    var cursor = FirehoseCursor.start
    var seen: [String] = []
    var lastSeqs: [String: Int64] = [:]
    var done = false
    while !done {
      let batch = try await store.events.firehose(after: cursor, limit: 7)
      for event in batch {
        seen.append("\(event.roomID):\(event.seq)")
        #expect(event.seq > lastSeqs[event.roomID, default: 0])
        lastSeqs[event.roomID] = event.seq
        cursor = try #require(event.cursor)
      }
      let resumed = try #require(FirehoseCursor(cursor.description))
      #expect(resumed == cursor)
      if batch.isEmpty {
        let writersDone = finished.load(ordering: .sequentiallyConsistent)
        let total = try await store.pool.query("SELECT count(*) AS n FROM room_events").first!
          .decode("n", as: Int.self)
        done = writersDone && seen.count == total
        try await Task.sleep(for: .milliseconds(5))
      }
    }
    try await writers.value
    #expect(Set(seen).count == seen.count)
    #expect(seen.count == 2 * 2 + 60)
    let filtered = try await store.events.firehose(after: .start, roomIDs: [rooms[0]], limit: 1000)
    #expect(filtered.allSatisfy { $0.roomID == rooms[0] })
    #expect(filtered.map(\.seq) == Array(1...Int64(filtered.count)))
  }
}
