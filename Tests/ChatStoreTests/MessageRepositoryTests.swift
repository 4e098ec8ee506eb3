import Foundation
import Testing

@testable import ChatStore

@Suite struct MessageRepositoryTests {
  let store: Store
  let room: String

  init() async throws {
    store = try await makeTestStore(maxConnections: 16)
    try await store.makeUsers("alice", "bob", "carol")
    room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id
  }

  @Test func thirtyTwoConcurrentAppendsGetGapFreeSeqs() async throws {
    let before = try #require(try await store.events.lastSeq(roomID: room))
    let seqs = try await withThrowingTaskGroup(of: Int64.self) { group in
      for index in 0..<32 {
        group.addTask {
          try await store.messages.send(
            roomID: room, sender: index % 2 == 0 ? "alice" : "bob", clientMsgID: "c\(index)",
            body: "m\(index)"
          ).message.seq
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(seqs.sorted() == Array((before + 1)...(before + 32)))
    let events = try await store.events.after(roomID: room, seq: before, limit: 100)
    #expect(events.map(\.seq) == Array((before + 1)...(before + 32)))
    #expect(events.allSatisfy { $0.kind == .messageCreated })
  }

  @Test func sameClientMessageIDSentConcurrentlyStoresOneMessage() async throws {
    let results = try await withThrowingTaskGroup(of: (Message, Bool).self) { group in
      for _ in 0..<10 {
        group.addTask {
          try await store.messages.send(
            roomID: room, sender: "alice", clientMsgID: "same", body: "once")
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    #expect(Set(results.map(\.0.id)).count == 1)
    #expect(results.filter(\.1).count == 1)
    let count = try await store.pool.query(
      "SELECT count(*) AS n FROM messages WHERE client_msg_id = 'same'")
    #expect(try count.first?.decode("n", as: Int.self) == 1)
  }

  @Test func aRefusedSendInAGroupCommitFailsAloneAndTheOthersCommit() async throws {
    // 24 sends at once: the ones queued behind the first share transactions; every fourth is
    // from a non-member and must fail alone.
    let outcomes = await withTaskGroup(of: (Int, Result<Message, any Error>).self) { group in
      for index in 0..<24 {
        group.addTask {
          do {
            return (
              index,
              .success(
                try await store.messages.send(
                  roomID: room, sender: index % 4 == 3 ? "carol" : "alice",
                  clientMsgID: "gc\(index)", body: "m\(index)"
                ).message)
            )
          } catch { return (index, .failure(error)) }
        }
      }
      return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
    }
    for (index, outcome) in outcomes {
      switch outcome {
      case .success(let message):
        #expect(index % 4 != 3)
        #expect(message.body == "m\(index)" && message.senderID == "alice")
      case .failure(let error):
        #expect(index % 4 == 3)
        #expect((error as? StoreError)?.kind == .notFound)
      }
    }
    let stored = outcomes.values.compactMap { try? $0.get().seq }.sorted()
    #expect(stored.count == 18 && Set(stored).count == 18)
    #expect(stored.last! - stored.first! == 17, "the 18 accepted sends have consecutive seqs")
  }

  @Test func sendUpdatesActivityAndReadPointer() async throws {
    let (message, created) = try await store.messages.send(
      roomID: room, sender: "bob", clientMsgID: "x", body: "hello alice")
    #expect(created)
    #expect(message.sender?.displayName == "Name bob")
    let summary = try #require(try await store.rooms.room(id: room, viewer: "alice"))
    #expect(summary.lastMessage?.id == message.id)
    #expect(summary.unreadCount == 1)
    #expect(summary.room.lastSeq == message.seq)
    let bob = try #require(summary.room.members.first { $0.user.id == "bob" })
    #expect(bob.lastReadSeq == message.seq)
  }

  @Test func nonMembersAndBadRepliesAreRefused() async throws {
    #expect(
      await storeErrorKind {
        _ = try await store.messages.send(
          roomID: room, sender: "carol", clientMsgID: "a", body: "x")
      } == .notFound)
    #expect(
      await storeErrorKind {
        _ = try await store.messages.send(
          roomID: UUID().uuidString, sender: "alice", clientMsgID: "a", body: "x")
      } == .notFound)
    #expect(
      await storeErrorKind {
        _ = try await store.messages.send(
          roomID: room, sender: "alice", clientMsgID: "a", body: "x", replyTo: UUID().uuidString)
      } == .invalidInput)
  }

  @Test func pagesBeforeAfterAndLatest() async throws {
    var seqs: [Int64] = []
    for index in 0..<5 {
      seqs.append(
        try await store.messages.send(
          roomID: room, sender: "alice", clientMsgID: "p\(index)", body: "b\(index)"
        ).message.seq)
    }
    let latest = try await store.messages.messages(roomID: room, viewer: "bob", limit: 2)
    #expect(latest.messages.map(\.seq) == Array(seqs.suffix(2)))
    #expect(latest.hasMore)
    let before = try await store.messages.messages(
      roomID: room, viewer: "bob", beforeSeq: seqs[2], limit: 10)
    #expect(before.messages.map(\.seq) == Array(seqs.prefix(2)))
    #expect(!before.hasMore)
    let after = try await store.messages.messages(
      roomID: room, viewer: "bob", afterSeq: seqs[0], limit: 3)
    #expect(after.messages.map(\.seq) == Array(seqs[1...3]))
    #expect(after.hasMore)
  }

  @Test func aVisiblePageIsTheMembersAndServicesOnly() async throws {
    for index in 0..<3 {
      _ = try await store.messages.send(
        roomID: room, sender: "alice", clientMsgID: "v\(index)", body: "b\(index)")
    }
    let plain = try await store.messages.messages(roomID: room, viewer: "bob", limit: 2)
    let member = try #require(
      try await store.messages.visiblePage(
        roomID: room, viewer: "bob", asService: false, limit: 2))
    #expect(member.messages.map(\.id) == plain.messages.map(\.id))
    #expect(member.hasMore)
    let after = try #require(
      try await store.messages.visiblePage(
        roomID: room, viewer: "bob", asService: false, afterSeq: plain.messages[0].seq,
        limit: 5))
    #expect(after.messages.map(\.seq) == [plain.messages[1].seq])
    #expect(!after.hasMore)
    // carol is not a member; a service reads any room that exists, and no room that does not.
    #expect(
      try await store.messages.visiblePage(
        roomID: room, viewer: "carol", asService: false, limit: 2)
        == nil)
    #expect(
      try await store.messages.visiblePage(roomID: room, viewer: "svc", asService: true, limit: 2)?
        .messages.count == 2)
    #expect(
      try await store.messages.visiblePage(
        roomID: UUID().uuidString, viewer: "svc", asService: true, limit: 2) == nil)
  }

  @Test func editDeleteAndReactions() async throws {
    let original = try await store.messages.send(
      roomID: room, sender: "bob", clientMsgID: "e", body: "tpyo"
    ).message
    let reply = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "r", body: "re", replyTo: original.id
    ).message
    #expect(reply.replyTo?.body == "tpyo")
    #expect(
      await storeErrorKind {
        _ = try await store.messages.edit(id: original.id, user: "alice", body: "x")
      }
        == .permissionDenied)
    #expect(
      await storeErrorKind {
        _ = try await store.messages.edit(id: original.id, user: "carol", body: "x")
      }
        == .notFound)
    let edited = try await store.messages.edit(id: original.id, user: "bob", body: "typo")
    #expect(edited.body == "typo")
    #expect(edited.editedAt != nil)

    let (liked, changed) = try await store.messages.react(
      messageID: original.id, user: "alice", emoji: "👍", add: true)
    #expect(changed)
    #expect(liked.reactions == [ReactionCount(emoji: "👍", count: 1, reactedByMe: true)])
    let again = try await store.messages.react(
      messageID: original.id, user: "alice", emoji: "👍", add: true)
    #expect(!again.changed)
    let byBob = try await store.messages.react(
      messageID: original.id, user: "bob", emoji: "👍", add: true)
    #expect(byBob.message.reactions == [ReactionCount(emoji: "👍", count: 2, reactedByMe: true)])
    let removed = try await store.messages.react(
      messageID: original.id, user: "alice", emoji: "👍", add: false)
    #expect(removed.changed)

    // Room owner alice may delete bob's message; the result is a tombstone.
    let tombstone = try await store.messages.delete(id: original.id, user: "alice")
    #expect(tombstone.isDeleted)
    #expect(tombstone.body.isEmpty)
    #expect(tombstone.reactions.isEmpty)
    #expect(
      await storeErrorKind {
        _ = try await store.messages.edit(id: original.id, user: "bob", body: "x")
      }
        == .notFound)
    let kinds = try await store.events.after(roomID: room, seq: original.seq, limit: 50).map(\.kind)
    #expect(
      kinds == [
        .messageCreated, .messageUpdated, .reactionChanged, .reactionChanged, .reactionChanged,
        .messageDeleted,
      ])
  }

  @Test func searchCoversOnlyTheCallersRooms() async throws {
    let other = try await store.rooms.createGroup(owner: "carol", title: "secret", members: [])
    _ = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "s1", body: "pineapple pizza")
    _ = try await store.messages.send(
      roomID: other.id, sender: "carol", clientMsgID: "s2", body: "pineapple secret")
    let found = try await store.messages.search(user: "bob", query: "pineapple", limit: 10)
    #expect(found?.items.map(\.body) == ["pineapple pizza"])
    let carol = try await store.messages.search(user: "carol", query: "pineapple", limit: 10)
    #expect(carol?.items.map(\.body) == ["pineapple secret"])
    let scoped = try await store.messages.search(
      user: "carol", query: "pineapple", roomID: other.id, limit: 10)
    #expect(scoped?.items.map(\.body) == ["pineapple secret"])
  }

  @Test func searchingARoomIsForThoseWhoMayReadIt() async throws {
    _ = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "r1", body: "mango lassi")
    // bob is a member; carol is not, and is told nothing of the room.
    let member = try await store.messages.search(
      user: "bob", query: "mango", roomID: room, limit: 10)
    #expect(member?.items.map(\.body) == ["mango lassi"])
    #expect(
      try await store.messages.search(user: "carol", query: "mango", roomID: room, limit: 10)
        == nil)
    // A service, a member of nothing, searches any room that exists, and no other.
    let service = try await store.messages.search(
      user: "svc", query: "mango", roomID: room, asService: true, limit: 10)
    #expect(service?.items.map(\.body) == ["mango lassi"])
    #expect(
      try await store.messages.search(
        user: "svc", query: "mango", roomID: UUID().uuidString, asService: true, limit: 10)
        == nil)
  }

  @Test(arguments: [
    "it's", "back\\slash", "\"double\"", "'); DROP TABLE messages; --", "$1 $2", "emoji 👩‍👩‍👧",
    "tab\tnew\nline", "E'\\x00'",
  ])
  func hostileStringsAreStoredExactly(_ text: String) async throws {
    let (message, _) = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: text, body: text)
    let read = try #require(try await store.messages.message(id: message.id, viewer: "bob"))
    #expect(read.body == text)
    #expect(read.clientMsgID == text)
    let profile = try await store.users.update(id: "carol", displayName: text, avatarURL: text)
    #expect(profile.displayName == text)
    #expect(try await store.users.get(id: "carol")?.avatarURL == text)
  }

  @Test func nulBytesAndInvalidUTF8AreRefused() async throws {
    #expect(
      await storeErrorKind {
        _ = try await store.messages.send(
          roomID: room, sender: "alice", clientMsgID: "n", body: "a\u{0}b")
      } == .invalidInput)
    #expect(
      await storeErrorKind {
        _ = try await store.users.update(id: "carol\u{0}", displayName: nil, avatarURL: nil)
      } == .invalidInput)
    #expect(
      await storeErrorKind {
        _ = try await store.pool.query(
          "UPDATE users SET display_name = \(PostgresBytes([0xC3, 0x28], asText: true)) WHERE id = 'carol'"
        )
      } == .invalidInput)
    #expect(try await store.users.get(id: "carol")?.displayName == "Name carol")
  }
}
