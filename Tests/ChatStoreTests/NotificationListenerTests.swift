import Synchronization
import Testing

@testable import ChatStore

@Suite struct NotificationListenerTests {
  /// `.resync` comes first, even when notifications flow while the listener connects: a
  /// consumer reads what it missed on `.resync`, so one that saw a notification before it
  /// would take that for the start of the stream.
  @Test(.timeLimit(.minutes(1))) func resyncComesFirstWhileNotificationsFlow() async throws {
    let store = try await makeTestStore(maxConnections: 2)
    let flooding = Atomic<Bool>(true)
    let flood = Task {
      var count = 0
      while flooding.load(ordering: .relaxed) {
        _ = try await store.pool.execute(
          Array(repeating: "SELECT pg_notify('chat_room_events', 'flood:1')", count: 20))
        count += 20
      }
      return count
    }
    for _ in 0..<20 {
      let listener = NotificationListener(configuration: store.pool.configuration)
      var events = listener.events().makeAsyncIterator()
      let listening = Task { try await listener.run() }
      let first = await events.next()
      listening.cancel()
      #expect(first == .resync)
      guard first == .resync else { break }
    }
    flooding.store(false, ordering: .relaxed)
    #expect(try await flood.value > 0)
  }
}

@Suite struct TypingAnnouncementTests {
  /// The membership check and the notification are one statement: a member's typing goes out,
  /// a stranger's is refused and never reaches any instance.
  @Test(.timeLimit(.minutes(1))) func onlyMembersTypingIsAnnounced() async throws {
    let store = try await makeTestStore(maxConnections: 2)
    try await store.makeUsers("alice", "bob", "carol")
    let room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["bob"]).id
    let listener = NotificationListener(configuration: store.pool.configuration)
    var events = listener.events().makeAsyncIterator()
    let listening = Task { try await listener.run() }
    defer { listening.cancel() }
    #expect(await events.next() == .resync)

    #expect(try await store.bus.announceTyping(roomID: room, user: "bob", typing: true))
    #expect(try await !store.bus.announceTyping(roomID: room, user: "carol", typing: true))
    #expect(try await store.bus.announceTyping(roomID: room, user: "bob", typing: false))
    var heard: [String] = []
    while let event = await events.next() {
      guard case .notification(BusRepository.typingChannel, let payload) = event else { continue }
      heard.append(payload)
      if payload.hasSuffix(":0") { break }
    }
    #expect(heard == ["\(room.lowercased()):bob:1", "\(room.lowercased()):bob:0"])
  }
}
