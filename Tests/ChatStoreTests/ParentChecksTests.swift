import Foundation
import Testing

@testable import ChatStore

/// Migration 13: messages and room_events check their room and sender once per statement
/// instead of through per-row foreign keys. What the keys guaranteed still holds, for any
/// writer, not only chatd's functions (users' deletion is SocialRepositoryTests').
@Suite struct ParentChecksTests {
  let store: Store
  let room: String

  init() async throws {
    store = try await makeTestStore(maxConnections: 4)
    try await store.makeUsers("alice", "bob")
    room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id
  }

  /// Runs `sql` and returns the SQLSTATE it failed with (nil when it succeeded).
  private func failure(_ query: PostgresQuery) async -> String? {
    do {
      _ = try await store.pool.query(query)
      return nil
    } catch let error as StoreError {
      return error.sqlState
    } catch {
      return "not a StoreError: \(error)"
    }
  }

  @Test func rowsWithoutTheirParentsAreRefusedAsByAForeignKey() async throws {
    let nowhere = UUID().uuidString.lowercased()
    // One good row and one bad in the same statement: the statement fails whole.
    #expect(
      await failure(
        """
        INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body)
        VALUES (gen_random_uuid(), \(room)::uuid, 1000, 'alice', 'p-1', 'ok'),
               (gen_random_uuid(), \(nowhere)::uuid, 1, 'alice', 'p-2', 'no room')
        """) == "23503")
    #expect(
      await failure(
        """
        INSERT INTO messages (id, room_id, seq, sender_id, client_msg_id, body)
        VALUES (gen_random_uuid(), \(room)::uuid, 1000, 'mallory', 'p-3', 'no such user')
        """) == "23503")
    #expect(
      await failure(
        "INSERT INTO room_events (room_id, seq, kind) VALUES (\(nowhere)::uuid, 1, 1)")
        == "23503")
    #expect(
      try await store.messages.messages(roomID: room, viewer: nil, limit: 10).messages.isEmpty)

    // An update that moves a message or an event to a missing parent is refused too; one that
    // clears the sender (what deleting a user does) is not.
    let sent = try await store.messages.send(
      roomID: room, sender: "bob", clientMsgID: "p-4", body: "hi"
    ).message
    #expect(
      await failure("UPDATE messages SET room_id = \(nowhere)::uuid WHERE id = \(sent.id)::uuid")
        == "23503")
    #expect(
      await failure("UPDATE messages SET sender_id = 'mallory' WHERE id = \(sent.id)::uuid")
        == "23503")
    #expect(
      await failure(
        "UPDATE room_events SET room_id = \(nowhere)::uuid WHERE room_id = \(room)::uuid")
        == "23503")
    #expect(
      await failure("UPDATE messages SET sender_id = NULL WHERE id = \(sent.id)::uuid") == nil)

    // Through the store a missing room is what it always was: not found.
    #expect(
      await storeErrorKind {
        _ = try await store.messages.send(
          roomID: nowhere, sender: "alice", clientMsgID: "p-5", body: "x")
      } == .notFound)
  }

  @Test func deletingARoomDeletesItsHistory() async throws {
    let kept = try await store.rooms.createGroup(owner: "alice", title: "k", members: ["bob"]).id
    for (index, target) in [room, kept, room].enumerated() {
      let message = try await store.messages.send(
        roomID: target, sender: "alice", clientMsgID: "d-\(index)", body: "m\(index)"
      ).message
      _ = try await store.messages.react(messageID: message.id, user: "bob", emoji: "👍", add: true)
    }
    func count(_ table: String, _ target: String) async throws -> Int64 {
      try await store.pool.query(
        "SELECT count(*) AS n FROM \(unsafeSQL: table) WHERE room_id = \(target)::uuid"
      ).rows[0].decode("n")
    }
    #expect(try await count("messages", room) == 2)
    #expect(try await count("room_events", room) > 2)

    _ = try await store.pool.query("DELETE FROM rooms WHERE id = \(room)::uuid")
    #expect(try await count("messages", room) == 0)
    #expect(try await count("room_events", room) == 0)
    let reactions: Int64 = try await store.pool.query(
      "SELECT count(*) AS n FROM reactions"
    ).rows[0].decode("n")
    #expect(reactions == 1, "the reactions of the deleted room's messages went with them")
    #expect(try await count("messages", kept) == 1)
  }
}
