import Testing

@testable import ChatStore

/// The seqs announced for one room on `chat_room_events` (other tests' rooms share the
/// channel), from a listener of its own that is listening once this is made.
final class RoomAnnouncements {
  private let prefix: String
  private let listening: Task<Void, any Error>
  private var events: AsyncStream<NotificationListener.Event>.Iterator

  init(room: String, pool: PostgresPool) async {
    let listener = NotificationListener(configuration: pool.configuration)
    listening = Task { try await listener.run() }
    events = listener.events().makeAsyncIterator()
    prefix = room.lowercased() + ":"
    #expect(await events.next() == .resync, "listening")
  }

  deinit { listening.cancel() }

  func next() async -> String? {
    while let event = await events.next() {
      if case .notification("chat_room_events", let payload) = event, payload.hasPrefix(prefix) {
        return String(payload.dropFirst(prefix.count))
      }
    }
    return nil
  }
}
