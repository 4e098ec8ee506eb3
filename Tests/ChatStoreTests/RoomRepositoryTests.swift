import Foundation
import Testing

@testable import ChatStore

@Suite struct RoomRepositoryTests {
  let store: Store

  init() async throws {
    store = try await makeTestStore()
    try await store.makeUsers("alice", "bob", "carol", "dave")
  }

  @Test func startDirectIsGetOrCreateEvenConcurrently() async throws {
    let rooms = try await withThrowingTaskGroup(of: (Room, Bool).self) { group in
      for index in 0..<10 {
        group.addTask {
          index % 2 == 0
            ? try await store.rooms.startDirect(user: "alice", peer: "bob")
            : try await store.rooms.startDirect(user: "bob", peer: "alice")
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(Set(rooms.map(\.0.id)).count == 1)
    #expect(rooms.filter(\.1).count == 1)
    let room = rooms[0].0
    #expect(room.kind == .direct)
    #expect(Set(room.members.map(\.user.id)) == ["alice", "bob"])
    #expect(
      await storeErrorKind { _ = try await store.rooms.startDirect(user: "alice", peer: "alice") }
        == .invalidInput)
    #expect(
      await storeErrorKind { _ = try await store.rooms.startDirect(user: "alice", peer: "nobody") }
        == .notFound)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.addMembers(roomID: room.id, actor: "alice", users: ["carol"])
      } == .invalidInput)
  }

  /// Each new member's notification locks their user row: groups created at once with
  /// shared members in different orders deadlocked (the mixed-day benchmark found it; one of
  /// them failed after PostgreSQL's deadlock timeout as ABORTED). Members are taken in one order.
  @Test func groupsCreatedAtOnceWithSharedMembersDoNotDeadlock() async throws {
    let users = (0..<12).map { "crowd-\($0)" }
    try await store.makeUsers(users)
    for round in 0..<3 {
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<16 {
          // Overlapping member lists of different sizes: PostgreSQL's DISTINCT (a hash) put
          // two shared members in different orders in different lists.
          let members = Array(users.shuffled().prefix(3 + index % 8))
          group.addTask {
            let room = try await store.rooms.createGroup(
              owner: "alice", title: "crowd \(round) \(index)", members: members)
            #expect(room.members.count == members.count + 1)
          }
        }
        try await group.waitForAll()
      }
    }
  }

  @Test func groupMembershipRules() async throws {
    let group = try await store.rooms.createGroup(
      owner: "alice", title: "team", members: ["bob", "bob", "alice"])
    #expect(group.kind == .group)
    #expect(group.members.map(\.user.id) == ["alice", "bob"])
    #expect(group.members.map(\.role) == [.owner, .member])
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.createGroup(owner: "alice", title: "x", members: ["ghost"])
      } == .notFound)
    // Members cannot add; strangers do not see the room.
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.addMembers(roomID: group.id, actor: "bob", users: ["carol"])
      } == .permissionDenied)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.addMembers(roomID: group.id, actor: "carol", users: ["carol"])
      } == .notFound)
    let grown = try await store.rooms.addMembers(
      roomID: group.id, actor: "alice", users: ["carol", "dave"])
    #expect(grown.members.count == 4)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.removeMember(roomID: group.id, actor: "bob", user: "carol")
      } == .permissionDenied)
    #expect(try await store.rooms.removeMember(roomID: group.id, actor: "alice", user: "carol"))
    #expect(try await !store.rooms.removeMember(roomID: group.id, actor: "alice", user: "carol"))
    // Leaving is removing oneself.
    #expect(try await store.rooms.removeMember(roomID: group.id, actor: "dave", user: "dave"))
    #expect(try await store.rooms.room(id: group.id, viewer: "dave") == nil)
    #expect(try await store.rooms.role(roomID: group.id, user: "bob") == .member)
    // Titles: owner or admin only.
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.update(roomID: group.id, actor: "bob", title: "x")
      } == .permissionDenied)
    #expect(
      try await store.rooms.update(roomID: group.id, actor: "alice", title: "renamed").title
        == "renamed")
    let muted = try await store.rooms.setMuted(roomID: group.id, user: "bob", muted: true)
    #expect(muted.muted)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.setMuted(roomID: group.id, user: "carol", muted: true)
      } == .notFound)
    // Carol was notified of being added and removed.
    let carol = try await store.notifications.list(user: "carol", limit: 10)
    #expect(carol.page.items.map(\.kind) == [.removedFromRoom, .addedToRoom])
    #expect(carol.unreadCount == 2)
    let kinds = try await store.events.after(roomID: group.id, seq: 0, limit: 50).map(\.kind)
    #expect(
      kinds == [
        .memberJoined, .memberJoined, .memberJoined, .memberJoined, .memberLeft, .memberLeft,
        .roomUpdated,
      ])
  }

  @Test func listRoomsByActivityWithCursorPages() async throws {
    var created: [String] = []
    for index in 0..<5 {
      let room = try await store.rooms.createGroup(
        owner: "alice", title: "r\(index)", members: ["bob"])
      created.append(room.id)
    }
    _ = try await store.messages.send(
      roomID: created[1], sender: "bob", clientMsgID: "m", body: "bump")
    var seen: [RoomSummary] = []
    var cursor: String?
    repeat {
      let page = try await store.rooms.rooms(of: "alice", limit: 2, after: cursor)
      seen += page.items
      cursor = page.nextCursor
    } while cursor != nil
    #expect(seen.map(\.room.id) == [created[1], created[4], created[3], created[2], created[0]])
    #expect(seen[0].unreadCount == 1)
    #expect(seen[0].lastMessage?.body == "bump")
    #expect(seen[0].room.members.count == 2)
    #expect(try await store.rooms.rooms(of: "carol", limit: 10).items.isEmpty)
  }

  @Test func markReadNeverMovesBackwards() async throws {
    let room = try await store.rooms.createGroup(owner: "alice", title: "r", members: ["bob"])
    var last: Int64 = 0
    for index in 0..<3 {
      last = try await store.messages.send(
        roomID: room.id, sender: "alice", clientMsgID: "k\(index)", body: "x"
      ).message.seq
    }
    let first = try await store.rooms.markRead(roomID: room.id, user: "bob", upTo: last - 1)
    #expect(first.lastReadSeq == last - 1)
    #expect(first.unreadCount == 1)
    let backwards = try await store.rooms.markRead(roomID: room.id, user: "bob", upTo: 1)
    #expect(backwards.lastReadSeq == last - 1)
    let beyond = try await store.rooms.markRead(roomID: room.id, user: "bob", upTo: 1_000_000)
    #expect(beyond.lastReadSeq >= last)
    #expect(beyond.unreadCount == 0)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.markRead(roomID: room.id, user: "carol", upTo: 1)
      } == .notFound)
    let delivered = try await store.rooms.markDelivered(roomID: room.id, user: "alice", upTo: 2)
    #expect(delivered >= 2)
    let events = try await store.events.after(roomID: room.id, seq: last, limit: 10)
    #expect(events.map(\.kind) == [.read, .read])
    #expect(events.last?.value == beyond.lastReadSeq)
    #expect(events.last?.subjectUserID == "bob")
  }

  /// Migration 14: MarkRead's `read` event is announced after its commit, once, and only when
  /// the pointer moved; chat_mark_read, which an older chatd calls, still notifies inside its
  /// transaction.
  @Test(.timeLimit(.minutes(1))) func markReadIsAnnouncedAfterItsCommit() async throws {
    let room = try await store.rooms.createGroup(owner: "alice", title: "a", members: ["bob"])
    let sent = try await store.messages.send(
      roomID: room.id, sender: "alice", clientMsgID: "ann", body: "x"
    ).message
    // Listening after the message, which was announced by its commit.
    let announced = await RoomAnnouncements(room: room.id, pool: store.pool)

    _ = try await store.rooms.markRead(roomID: room.id, user: "bob", upTo: sent.seq)
    #expect(await announced.next() == "\(sent.seq + 1)")
    _ = try await store.rooms.markRead(roomID: room.id, user: "bob", upTo: sent.seq)  // no move
    _ = try await store.pool.query(
      "SELECT * FROM chat_mark_read(\(room.id)::uuid, 'alice', \(sent.seq + 1))")
    #expect(
      await announced.next() == "\(sent.seq + 2)", "one announcement per event, none for no move")
    let read = try await store.events.after(roomID: room.id, seq: sent.seq, limit: 10)
    #expect(read.map(\.kind) == [.read, .read])
    #expect(read.map(\.subjectUserID) == ["bob", "alice"])
  }

  @Test func unknownAndMalformedIDsAreNotFound() async throws {
    #expect(try await store.rooms.room(id: "not-a-uuid", viewer: "alice") == nil)
    #expect(try await store.rooms.room(id: UUID().uuidString, viewer: "alice") == nil)
    #expect(
      await storeErrorKind {
        _ = try await store.rooms.update(roomID: "x'; --", actor: "alice", title: "t")
      } == .notFound)
  }

  @Test func aBurstOfSubscriptionChecksAnswersEachCallerCorrectly() async throws {
    let room = try await store.rooms.createGroup(owner: "alice", title: "burst", members: ["bob"])
    let unknown = UUID().uuidString
    let last = try await store.events.lastSeqs(roomIDs: [room.id])[room.id]
    // More concurrent checks than the pool has connections: they share a few queries.
    try await withThrowingTaskGroup(of: Void.self) { group in
      for index in 0..<600 {
        group.addTask {
          switch index % 4 {
          case 0:
            let check = try await store.rooms.subscriptionCheck(roomID: room.id, user: "bob")
            #expect(check?.isMember == true)
            #expect(check?.lastSeq == last)
          case 1:
            let check = try await store.rooms.subscriptionCheck(roomID: room.id, user: "carol")
            #expect(check?.isMember == false)
          case 2:
            #expect(try await store.rooms.subscriptionCheck(roomID: unknown, user: "bob") == nil)
          default:
            #expect(try await store.rooms.subscriptionCheck(roomID: "x'; --", user: "bob") == nil)
          }
        }
      }
      try await group.waitForAll()
    }
  }
}
