import BenchSupport
import ChatProtos
import RPCCore
import Synchronization

/// One stream of a user's open app in the mixed chat day: their SubscribeUser stream or a
/// SubscribeRoom stream. Like a client app it always resumes after the last persisted seq it
/// saw, reopens by itself 100 ms after a failure, and is reopened on purpose by the user's
/// `resubscribe` operation.
final class MixedStream: Sendable {
  enum Kind: Sendable {
    case user
    case room(id: String)
  }

  let kind: Kind
  private let userID: String
  private let chat: Chat_V1_ChatService.Client
  private let options: CallOptions
  private let tag: MessageTag
  private let tally: MixedTally
  /// The last persisted seq seen: the room's seq, or the user's notification seq.
  let lastSeq: Atomic<UInt64>
  private let task = Mutex<Task<Void, Never>?>(nil)

  init(
    kind: Kind, userID: String, token: String, afterSeq: UInt64,
    chat: Chat_V1_ChatService.Client, tag: MessageTag, tally: MixedTally
  ) {
    self.kind = kind
    self.userID = userID
    self.chat = chat
    options = Fixture.options(token: token)
    self.tag = tag
    self.tally = tally
    lastSeq = Atomic(afterSeq)
  }

  /// The name failures are counted under.
  private var name: String {
    switch kind {
    case .user: "subscribe_user"
    case .room: "subscribe_room"
    }
  }

  /// Opens the stream and returns once it is synced; throws what made the first attempt fail
  /// (the stream keeps retrying in the background), or a timeout.
  func open(timeout: Duration) async throws {
    let (started, signal) = AsyncStream<Result<Void, any Error>>.makeStream()
    let task = Task { await self.run(signal: signal) }
    self.task.withLock { $0 = task }
    let result: Result<Void, any Error>? = try await withTimeout(timeout) {
      for await result in started { return result }
      // Closed before it was synced: not a failure of the server.
      return nil
    }
    try result?.get()
  }

  /// Ends the current subscription (if any) and opens a new one after the last seq seen.
  func reopen(timeout: Duration) async throws {
    await close()
    try await open(timeout: timeout)
  }

  func close() async {
    guard let task = task.withLock({ $0.take() }) else { return }
    task.cancel()
    await task.value
  }

  /// Attempts until cancelled. The first attempt's failure goes to the opener through
  /// `signal`; failures after that (once synced, or retries) are counted here.
  private func run(signal: AsyncStream<Result<Void, any Error>>.Continuation) async {
    defer { signal.finish() }
    while !Task.isCancelled {
      do {
        try await attempt(synced: signal)
        throw RPCError(code: .unavailable, message: "the server ended the stream")
      } catch {
        // Cancellation is how the user and the end of the day close a stream.
        if Task.isCancelled { return }
        if case .terminated = signal.yield(.failure(error)) { tally.failed(name, error) }
        signal.finish()
      }
      do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
    }
  }

  private func attempt(synced signal: AsyncStream<Result<Void, any Error>>.Continuation)
    async throws
  {
    let synced: @Sendable () -> Void = {
      signal.yield(.success(()))
      signal.finish()
    }
    switch kind {
    case .room(let roomID):
      var request = Chat_V1_SubscribeRoomRequest()
      request.roomId = roomID
      request.afterSeq = lastSeq.load(ordering: .relaxed)
      try await chat.subscribeRoom(request, options: options) { [self] events in
        for try await event in events where advance(to: event.seq) {
          switch event.event {
          case .synced: synced()
          case .messageCreated(let message): received(message, on: tally.roomLatency)
          case .typing: tally.typingReceived.add(1, ordering: .relaxed)
          default: break
          }
        }
      }
    case .user:
      var request = Chat_V1_SubscribeUserRequest()
      request.afterSeq = lastSeq.load(ordering: .relaxed)
      try await chat.subscribeUser(request, options: options) { [self] events in
        for try await event in events where advance(to: event.seq) {
          switch event.event {
          case .synced: synced()
          case .roomActivity(let activity):
            if let message = activity.message { received(message, on: tally.userLatency) }
          default: break
          }
        }
      }
    }
  }

  /// Moves the resume point to a persisted event's seq; false for one seen before (counted:
  /// a resumed stream must never repeat or reorder). Ephemeral events (seq 0) always pass.
  private func advance(to seq: UInt64) -> Bool {
    guard seq != 0 else { return true }
    guard seq > lastSeq.load(ordering: .relaxed) else {
      tally.disordered.add(1, ordering: .relaxed)
      return false
    }
    lastSeq.store(seq, ordering: .relaxed)
    return true
  }

  /// A message of the run sent by someone else: a delivery, and a latency sample when it was
  /// sent within the measured window.
  private func received(_ message: Chat_V1_Message, on latencies: Latencies) {
    guard message.senderId != userID, case .measured(let sentAt) = tag.classify(message) else {
      return
    }
    let now = MonotonicClock.nanos()
    switch kind {
    case .room: tally.roomDeliveries.add(1, ordering: .relaxed)
    case .user: tally.userDeliveries.add(1, ordering: .relaxed)
    }
    if tally.isMeasured(sentAt) { latencies.add([now &- sentAt]) }
  }
}
