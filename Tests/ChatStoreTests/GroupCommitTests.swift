import Foundation
import Testing

@testable import ChatStore

/// The set-based batch append (0010, across rooms since 0015): batches composed by hand
/// through `AppendBatcher.execute`, so each case runs as one `chat_send_batch` call whatever
/// the timing. Every outcome is what one `chat_append_message` per send (0006) gave.
@Suite struct GroupCommitTests {
  let store: Store
  let room: String

  init() async throws {
    store = try await makeTestStore(maxConnections: 8, pushGracePeriod: .seconds(3))
    try await store.makeUsers("alice", "bob", "carol", "dave")
    room = try await store.rooms.createGroup(
      owner: "alice", title: "g", members: ["bob", "dave"]
    ).id
  }

  private func send(
    _ sender: String, _ clientMsgID: String, _ body: String = "b", replyTo: String? = nil,
    room roomID: String? = nil
  ) -> AppendBatcher.Send {
    AppendBatcher.Send(
      roomID: roomID ?? room, sender: sender, clientMsgID: clientMsgID, body: body,
      replyTo: replyTo)
  }

  private func lastSeq() async throws -> Int64 {
    try #require(try await store.events.lastSeq(roomID: room))
  }

  /// Migration 17: a batch's new seqs are announced by its own commit, in order, and a
  /// duplicate is not announced again. The function an older chatd calls still notifies inside
  /// its transaction.
  @Test(.timeLimit(.minutes(1))) func newMessagesAreAnnouncedInSeqOrderByTheirCommit()
    async throws
  {
    let announced = await RoomAnnouncements(room: room, pool: store.pool)

    let before = try await lastSeq()
    let outcomes = await store.messages.appends.execute([
      send("alice", "announce-1"), send("bob", "announce-2"), send("alice", "announce-1"),
    ])
    #expect(try outcomes.map { try $0.get().created } == [true, true, false])
    #expect(await announced.next() == "\(before + 1)")
    #expect(await announced.next() == "\(before + 2)")

    _ = try await store.pool.query(
      """
      SELECT * FROM chat_append_messages(\(room)::uuid, \(["dave"])::text[],
        \(["announce-3"])::text[], \(["from an older chatd"])::text[], ARRAY[NULL]::uuid[])
      """)
    #expect(await announced.next() == "\(before + 3)")
  }

  /// Batches of two rooms appending side by side are each announced completely and in seq
  /// order: PostgreSQL queues notifications in commit order, and a room's batches commit in
  /// seq order.
  @Test(.timeLimit(.minutes(1))) func roomsAppendingSideBySideAreAnnouncedInOrder() async throws {
    let other = try await store.rooms.createGroup(owner: "bob", title: "h", members: ["carol"])
      .id
    let listener = NotificationListener(configuration: store.pool.configuration)
    let listening = Task { try await listener.run() }
    defer { listening.cancel() }
    var events = listener.events().makeAsyncIterator()
    #expect(await events.next() == .resync, "listening")

    let firstSeqs = [
      try await lastSeq(), try #require(try await store.events.lastSeq(roomID: other)),
    ]
    let batches = 8
    let perBatch = 3
    await withTaskGroup(of: Void.self) { group in
      for (target, senders) in [(room, ["alice", "bob"]), (other, ["bob", "carol"])] {
        group.addTask {
          for batch in 0..<batches {
            let outcomes = await store.messages.appends.execute(
              (0..<perBatch).map {
                send(senders[$0 % 2], "side-\(target)-\(batch)-\($0)", room: target)
              })
            #expect(outcomes.allSatisfy { (try? $0.get().created) == true })
          }
        }
      }
    }
    var announced: [String: [Int64]] = [room.lowercased(): [], other.lowercased(): []]
    let expected = batches * perBatch
    while announced.values.contains(where: { $0.count < expected }), let event = await events.next()
    {
      guard case .notification("chat_room_events", let payload) = event else { continue }
      let parts = payload.split(separator: ":")
      guard parts.count == 2, announced[String(parts[0])] != nil, let seq = Int64(parts[1]) else {
        continue
      }
      announced[String(parts[0]), default: []].append(seq)
    }
    for (index, target) in [room, other].enumerated() {
      #expect(
        announced[target.lowercased()]
          == Array((firstSeqs[index] + 1)...(firstSeqs[index] + Int64(expected))))
    }
  }

  /// Closing the store (chatd stopping) loses no announcement: a send's went with its commit
  /// (migration 17), and a MarkRead's, queued after its commit, is sent before the pool
  /// closes (`Store.close` drains the announcer first), or another instance's subscribers
  /// would wait for their next position check.
  @Test(.timeLimit(.minutes(1))) func closingTheStoreLosesNoAnnouncement() async throws {
    let own = try await makeTestStore(maxConnections: 2)
    try await own.makeUsers("erin", "frank")
    let target = try await own.rooms.createGroup(owner: "erin", title: "s", members: ["frank"])
      .id
    let announced = await RoomAnnouncements(room: target, pool: own.pool)

    let outcomes = await own.messages.appends.execute([
      AppendBatcher.Send(
        roomID: target, sender: "erin", clientMsgID: "last", body: "bye", replyTo: nil)
    ])
    let seq = try outcomes[0].get().message.seq
    _ = try await own.rooms.markRead(roomID: target, user: "frank", upTo: seq)
    await own.close()
    #expect(await announced.next() == "\(seq)")
    #expect(await announced.next() == "\(seq + 1)", "the read event")
  }

  @Test func aBatchAppendsInArrivalOrder() async throws {
    let before = try await lastSeq()
    let senders = ["alice", "bob", "bob", "dave", "alice", "bob", "alice", "dave"]
    let outcomes = await store.messages.appends.execute(
      senders.enumerated().map { send($0.element, "order-\($0.offset)", "m\($0.offset)") })
    let messages = try outcomes.map { try $0.get() }
    #expect(messages.map { $0.created } == Array(repeating: true, count: 8))
    #expect(messages.map(\.message.seq) == Array((before + 1)...(before + 8)))
    #expect(messages.map(\.message.body) == (0..<8).map { "m\($0)" })
    #expect(messages.map(\.message.senderID) == senders.map(Optional.some))
    #expect(
      messages.allSatisfy { $0.message.sender?.displayName == "Name \($0.message.senderID!)" })

    // Room events in seq order, one per message, and in the same order on the firehose.
    let events = try await store.events.after(roomID: room, seq: before, limit: 100)
    #expect(events.map(\.seq) == messages.map(\.message.seq))
    #expect(events.map(\.messageID) == messages.map { Optional.some($0.message.id) })
    #expect(events.map(\.actorID) == senders.map(Optional.some))
    let firehose = try await store.pool.query(
      """
      SELECT seq FROM room_events WHERE room_id = \(room)::uuid AND seq > \(before)
      ORDER BY xid, id
      """
    ).rows.map { try $0.decode("seq", as: Int64.self) }
    #expect(firehose == messages.map(\.message.seq))

    // Each sender's read pointer at their last message of the batch; the room's last message.
    let summary = try #require(try await store.rooms.room(id: room, viewer: "alice"))
    #expect(summary.room.lastSeq == before + 8)
    #expect(summary.lastMessage?.id == messages[7].message.id)
    let pointers = Dictionary(
      uniqueKeysWithValues: summary.room.members.map { ($0.user.id, $0.lastReadSeq) })
    #expect(pointers["alice"] == before + 7)
    #expect(pointers["bob"] == before + 6)
    #expect(pointers["dave"] == before + 8)
  }

  @Test func aDuplicateClientMessageIDInsideOneBatchFindsTheFirst() async throws {
    let before = try await lastSeq()
    let outcomes = await store.messages.appends.execute([
      send("alice", "dup", "first"), send("bob", "dup", "bob's"), send("alice", "dup", "second"),
      send("alice", "other", "third"), send("alice", "dup", "third try"),
    ])
    let results = try outcomes.map { try $0.get() }
    #expect(results.map(\.created) == [true, true, false, true, false])
    #expect(results[2].message.id == results[0].message.id)
    #expect(results[4].message.id == results[0].message.id)
    #expect(results[2].message.body == "first" && results[4].message.body == "first")
    #expect(results[1].message.id != results[0].message.id)  // another sender's key
    #expect(
      results.map(\.message.seq) == [before + 1, before + 2, before + 1, before + 3, before + 1])
    #expect(try await lastSeq() == before + 3)  // no seq for the duplicates
    let count = try await store.pool.query(
      "SELECT count(*) AS n FROM messages WHERE client_msg_id = 'dup'")
    #expect(try count.first?.decode("n", as: Int.self) == 2)
  }

  @Test func aRetryOfACommittedSendInsideABatchReturnsTheOriginal() async throws {
    let (original, _) = try await store.messages.send(
      roomID: room, sender: "bob", clientMsgID: "retry", body: "original")
    let outcomes = await store.messages.appends.execute([
      send("alice", "r1"), send("bob", "retry", "again"), send("alice", "r2"),
    ])
    let results = try outcomes.map { try $0.get() }
    #expect(results.map(\.created) == [true, false, true])
    #expect(results[1].message.id == original.id && results[1].message.body == "original")
    #expect(results[2].message.seq == results[0].message.seq + 1)
  }

  @Test func aNonMembersSendInsideABatchFailsAlone() async throws {
    let before = try await lastSeq()
    let outcomes = await store.messages.appends.execute([
      send("alice", "nm1"), send("carol", "nm2"), send("bob", "nm3"), send("carol", "nm4"),
      send("nobody", "nm5"), send("dave", "nm6"),
    ])
    for index in [1, 3, 4] {
      #expect(await storeErrorKind { _ = try outcomes[index].get() } == .notFound)
    }
    let accepted = try [0, 2, 5].map { try outcomes[$0].get() }
    #expect(accepted.map(\.message.seq) == [before + 1, before + 2, before + 3])
    #expect(accepted.map(\.message.senderID) == ["alice", "bob", "dave"])
    #expect(try await lastSeq() == before + 3)
  }

  @Test func aRefusedReplyFailsAloneAndFreesItsClientMessageID() async throws {
    let (earlier, _) = try await store.messages.send(
      roomID: room, sender: "alice", clientMsgID: "earlier", body: "x")
    let elsewhere = try await store.rooms.createGroup(owner: "carol", title: "h", members: [])
    let (foreign, _) = try await store.messages.send(
      roomID: elsewhere.id, sender: "carol", clientMsgID: "foreign", body: "y")
    let before = try await lastSeq()
    let outcomes = await store.messages.appends.execute([
      send("bob", "reply", "bad", replyTo: foreign.id),  // refused: the reply-to is elsewhere
      send("bob", "reply", "good", replyTo: earlier.id),  // so this one creates the message
      send("bob", "reply", "late", replyTo: foreign.id),  // and this one is its duplicate
      send("dave", "missing", replyTo: UUID().uuidString.lowercased()),
    ])
    #expect(await storeErrorKind { _ = try outcomes[0].get() } == .invalidInput)
    #expect(await storeErrorKind { _ = try outcomes[3].get() } == .invalidInput)
    let good = try outcomes[1].get()
    let late = try outcomes[2].get()
    #expect(good.created && good.message.seq == before + 1 && good.message.body == "good")
    #expect(good.message.replyToID == earlier.id)
    #expect(!late.created && late.message.id == good.message.id)
    #expect(try await lastSeq() == before + 1)
  }

  @Test func aBatchWritesThePushRowsOfEveryMessage() async throws {
    _ = try await store.rooms.setMuted(roomID: room, user: "dave", muted: true)
    try await store.presence.renewLease(instance: "i1", ttl: .seconds(30))
    try await store.presence.streamOpened(instance: "i1", user: "bob")
    let outcomes = await store.messages.appends.execute([
      send("alice", "p1"), send("bob", "p2"), send("alice", "p3"), send("carol", "p4"),
      send("alice", "p1"),
    ])
    let seqs = try [0, 1, 2].map { try outcomes[$0].get().message.seq }
    // Not the sender, not dave (muted); bob is online, so his rows wait the grace period.
    let rows = try await store.pool.query(
      """
      SELECT user_id, seq, next_attempt_at > now() + interval '2 seconds' AS waits
      FROM push_outbox WHERE room_id = \(room)::uuid ORDER BY id
      """
    ).rows.map {
      (
        try $0.decode("user_id", as: String.self), try $0.decode("seq", as: Int64.self),
        try $0.decode("waits", as: Bool.self)
      )
    }
    #expect(rows.map(\.0) == ["bob", "alice", "bob"])
    #expect(rows.map(\.1) == seqs)
    #expect(rows.map(\.2) == [true, false, true])
  }

  /// Migration 15: one batch holds the sends of several rooms. Each room's new messages take
  /// its next seqs in arrival order, with their events, pointers and push rows in that room;
  /// a refusal in one room fails alone; idempotency spans rooms as the table's key does.
  @Test func aBatchAcrossRoomsAppendsEachRoomInArrivalOrder() async throws {
    let other = try await store.rooms.createGroup(owner: "bob", title: "o", members: ["carol"])
      .id
    let (before, otherBefore) = (
      try await lastSeq(), try #require(try await store.events.lastSeq(roomID: other))
    )
    let outcomes = await store.messages.appends.execute([
      send("alice", "x1", "a1"), send("bob", "x2", "o1", room: other),
      send("carol", "x3", "refused: not in this room"), send("bob", "x4", "a2"),
      send("carol", "x5", "o2", room: other), send("bob", "x2", "retry elsewhere"),
      send("alice", "x6", "a3"),
    ])
    #expect(await storeErrorKind { _ = try outcomes[2].get() } == .notFound)
    let results = try [0, 1, 3, 4, 5, 6].map { try outcomes[$0].get() }
    #expect(results.map(\.created) == [true, true, true, true, false, true])
    #expect(results.map(\.message.roomID) == [room, other, room, other, other, room])
    #expect(results.map(\.message.body) == ["a1", "o1", "a2", "o2", "o1", "a3"])
    #expect(
      results.map(\.message.seq)
        == [before + 1, otherBefore + 1, before + 2, otherBefore + 2, otherBefore + 1, before + 3])
    #expect(try await lastSeq() == before + 3)

    // One transaction for both rooms: the rows share their inserting transaction id.
    let transactions = try await store.pool.query(
      """
      SELECT count(DISTINCT xmin::text) AS n FROM messages
      WHERE id = ANY (\(results.map(\.message.id))::uuid[])
      """)
    #expect(try transactions.first?.decode("n", as: Int.self) == 1)

    for (target, seqs, last) in [
      (room, [before + 1, before + 2, before + 3], results[5]),
      (other, [otherBefore + 1, otherBefore + 2], results[3]),
    ] {
      let events = try await store.events.after(roomID: target, seq: seqs[0] - 1, limit: 100)
      #expect(events.map(\.seq) == seqs)
      let summary = try #require(try await store.rooms.room(id: target, viewer: "bob"))
      #expect(summary.room.lastSeq == seqs.last && summary.lastMessage?.id == last.message.id)
    }
    let pointers = try await store.pool.query(
      """
      SELECT room_id::text AS room, user_id, last_read_seq FROM room_members
      WHERE room_id IN (\(room)::uuid, \(other)::uuid) AND user_id IN ('alice', 'bob', 'carol')
      """
    ).rows.reduce(into: [String: Int64]()) {
      $0["\(try $1.decode("room", as: String.self)) \(try $1.decode("user_id", as: String.self))"] =
        try $1.decode("last_read_seq", as: Int64.self)
    }
    #expect(pointers["\(room) alice"] == before + 3)
    #expect(pointers["\(room) bob"] == before + 2)
    #expect(pointers["\(other) bob"] == otherBefore + 1)
    #expect(pointers["\(other) carol"] == otherBefore + 2)

    // Push rows: each message to its own room's other members.
    let pushes = try await store.pool.query(
      """
      SELECT room_id::text AS room, seq, user_id FROM push_outbox
      WHERE message_id = ANY (\(results.map(\.message.id))::uuid[])
      ORDER BY room_id = \(room)::uuid DESC, seq, user_id
      """
    ).rows.map {
      "\(try $0.decode("room", as: String.self) == room ? "r" : "o")\(try $0.decode("seq", as: Int64.self)) \(try $0.decode("user_id", as: String.self))"
    }
    #expect(
      pushes == [
        "r\(before + 1) bob", "r\(before + 1) dave", "r\(before + 2) alice",
        "r\(before + 2) dave", "r\(before + 3) bob", "r\(before + 3) dave",
        "o\(otherBefore + 1) carol", "o\(otherBefore + 2) bob",
      ])
  }

  /// Two batches that share rooms take the rooms' locks in one order, so they wait for each
  /// other and never deadlock (PostgreSQL would abort one after `deadlock_timeout`).
  @Test(.timeLimit(.minutes(1))) func batchesSharingRoomsInOppositeOrderBothCommit() async throws {
    let rooms =
      [room] + [
        try await store.rooms.createGroup(owner: "alice", title: "d", members: ["bob"]).id
      ]
    try await withThrowingTaskGroup(of: Void.self) { group in
      for (writer, order) in [("alice", rooms), ("bob", rooms.reversed())] {
        group.addTask {
          for round in 0..<20 {
            let outcomes = await store.messages.appends.execute(
              order.enumerated().map {
                send(writer, "lock-\(round)-\($0.offset)", room: $0.element)
              })
            for outcome in outcomes { _ = try outcome.get() }
          }
        }
      }
      try await group.waitForAll()
    }
  }

  /// The batcher: sends to many idle rooms at once share transactions, beyond the first few
  /// that go out alone.
  @Test func concurrentSendsToManyRoomsShareTransactions() async throws {
    var rooms: [String] = []
    for _ in 0..<32 {
      rooms.append(try await store.rooms.createGroup(owner: "alice", title: "m", members: []).id)
    }
    let ids = try await withThrowingTaskGroup(of: String.self) { group in
      for (index, target) in rooms.enumerated() {
        group.addTask {
          let (message, created) = try await store.messages.send(
            roomID: target, sender: "alice", clientMsgID: "many-\(index)", body: "m")
          #expect(created && message.roomID == target)
          return message.id
        }
      }
      return try await group.reduce(into: []) { $0.append($1) }
    }
    let transactions = try await store.pool.query(
      "SELECT count(DISTINCT xmin::text) AS n FROM messages WHERE id = ANY (\(ids)::uuid[])")
    let count = try #require(try transactions.first?.decode("n", as: Int.self))
    #expect(count <= 16, "32 sends in 32 rooms took \(count) transactions")
  }

  /// A conflict the checks cannot see: the same (sender, client_msg_id) sent to another room
  /// by a transaction still running (the room lock does not serialize different rooms). The
  /// set-based attempt rolls back and the batch reruns one send at a time: the others commit
  /// with gap-free seqs, and the conflicting send finds the other room's message.
  @Test(.timeLimit(.minutes(1))) func aConflictTheChecksCannotSeeFallsBackToOneSendAtATime()
    async throws
  {
    let other = try await store.rooms.createGroup(owner: "bob", title: "o", members: []).id
    let before = try await lastSeq()
    let announced = await RoomAnnouncements(room: room, pool: store.pool)
    let (started, start) = AsyncStream.makeStream(of: Void.self)
    let concurrent = Task {
      try await store.pool.withTransaction { tx in
        _ = try await tx.query(
          """
          SELECT * FROM chat_append_messages(\(other)::uuid, \(["bob"])::text[],
            \(["both"])::text[], \(["in the other room"])::text[], ARRAY[NULL]::uuid[])
          """)
        start.yield()
        try await Task.sleep(for: .milliseconds(500))
      }
    }
    for await _ in started { break }
    let outcomes = await store.messages.appends.execute([
      send("alice", "f1"), send("bob", "both", "here"), send("alice", "f2"),
    ])
    try await concurrent.value
    let results = try outcomes.map { try $0.get() }
    #expect(results.map(\.created) == [true, false, true])
    #expect(results[1].message.roomID == other && results[1].message.body == "in the other room")
    #expect(results[0].message.seq == before + 1 && results[2].message.seq == before + 2)
    #expect(try await lastSeq() == before + 2)
    // Announced once each, though the rerun and the batch both NOTIFY them: the next
    // announcement is the next message's.
    #expect(await announced.next() == "\(before + 1)")
    #expect(await announced.next() == "\(before + 2)")
    _ = await store.messages.appends.execute([send("alice", "f3")])
    #expect(await announced.next() == "\(before + 3)")
  }
}
