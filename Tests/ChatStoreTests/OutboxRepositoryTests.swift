import Foundation
import Testing

@testable import ChatStore

@Suite struct OutboxRepositoryTests {
  @Test func pushOffWritesNoRows() async throws {
    let store = try await makeTestStore()
    try await store.makeUsers("alice", "bob")
    let room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id
    _ = try await store.messages.send(roomID: room, sender: "alice", clientMsgID: "a", body: "x")
    _ = try await store.follows.follow(follower: "alice", user: "bob")
    #expect(try await store.outbox.backlog().pending == 0)
  }

  @Test func offlineRecipientsGetARowDueNowWithItsNotification() async throws {
    let store = try await makeTestStore(pushGracePeriod: .seconds(3))
    try await store.makeUsers("alice", "bob", "carol")
    let room = try await store.rooms.createGroup(
      owner: "alice", title: "Trip", members: ["bob", "carol"]
    ).id
    _ = try await store.rooms.setMuted(roomID: room, user: "carol", muted: true)
    let (message, _) = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "a", body: "hello")
    let items = try await store.outbox.claim(limit: 10)
    #expect(items.count == 1)  // carol muted the room, alice sent it
    let item = try #require(items.first)
    #expect(item.kind == .message && item.userID == "bob" && item.attempts == 1)
    #expect(item.roomID == room && item.messageID == message.id && item.body == "hello")
    #expect(item.senderName == "Name alice" && item.groupTitle == "Trip")
    #expect(item.unreadTotal == 1 && !item.isStale)
    #expect(try await store.outbox.claim(limit: 10).isEmpty)  // claimed rows wait their lease

    // A retry keeps the key and counts the attempt.
    try await store.outbox.retry(id: item.id, after: .zero, error: "HTTP 500")
    let again = try #require(try await store.outbox.claim(limit: 10).first)
    #expect(again.idempotencyKey == item.idempotencyKey && again.attempts == 2)
    try await store.outbox.giveUp(id: again.id, reason: "HTTP 400")
    #expect(try await store.outbox.backlog().pending == 0)
    #expect(try await store.outbox.claim(limit: 10).isEmpty)
  }

  @Test func onlineRecipientsWaitTheGraceAndTurnStaleWhenDelivered() async throws {
    let store = try await makeTestStore(pushGracePeriod: .seconds(1))
    try await store.makeUsers("alice", "bob")
    let room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id
    try await store.presence.renewLease(instance: "i1", ttl: .seconds(30))
    try await store.presence.streamOpened(instance: "i1", user: "bob")
    let (message, _) = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "a", body: "x")
    // The row's own times, not a claim right away: a test runner that stalls for the grace
    // period between the send and the claim would find the row due.
    let due = try await store.pool.query(
      """
      SELECT next_attempt_at - created_at = interval '1 second' AS waits FROM push_outbox
      WHERE message_id = \(message.id)::uuid AND user_id = 'bob'
      """)
    #expect(try due.first?.decode("waits", as: Bool.self) == true)
    try await store.rooms.markDelivered(
      [.init(roomID: room, userID: "bob", seq: message.seq)], eventMaxMembers: 50)
    try await Task.sleep(for: .milliseconds(1100))
    let item = try #require(try await store.outbox.claim(limit: 10).first)
    #expect(item.userID == "bob" && item.isStale)
  }

  @Test func followOfAnOfflineUserWritesARow() async throws {
    let store = try await makeTestStore(pushGracePeriod: .seconds(3))
    try await store.makeUsers("alice", "bob")
    _ = try await store.follows.follow(follower: "alice", user: "bob")
    _ = try await store.follows.follow(follower: "alice", user: "bob")  // no second row
    let items = try await store.outbox.claim(limit: 10)
    #expect(items.count == 1)
    let item = try #require(items.first)
    #expect(item.kind == .follow && item.userID == "bob" && item.actorID == "alice")
    #expect(item.actorName == "Name alice" && item.roomID == nil && !item.isStale)
  }
}
