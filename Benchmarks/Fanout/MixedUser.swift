import BenchSupport
import ChatProtos
import Foundation

/// One user of the mixed chat day with their app open: a SubscribeUser stream, SubscribeRoom
/// streams on a few rooms, and a loop that pauses (think time) and does one operation, picked
/// by weight, until the day ends. Closed loop per user: a slow answer delays that user's next
/// operation, as it would a person's.
struct MixedUser: Sendable {
  struct Room: Sendable {
    let id: String
    /// The members with a room stream on it, this user excepted: who a message must reach.
    let otherStreams: Int
    /// The room's stream in this user's app, when it is one of their open rooms.
    let stream: MixedStream?
  }

  let index: Int
  let token: String
  let chat: Chat_V1_ChatService.Client
  let rooms: [Room]
  /// The user stream first, then the room streams.
  let streams: [MixedStream]
  let tag: MessageTag
  let tally: MixedTally

  /// How often an operation on a room goes to a room the app has open (the conversation on
  /// screen) rather than to any of the user's rooms.
  static let openRoomShare = 0.7
  /// Bounds on a call and on a resubscription: past them the user moves on, and the failure
  /// is counted (as ClientTimeout).
  static let callTimeout = Duration.seconds(30)
  static let resubscribeTimeout = Duration.seconds(30)

  /// What one user's loop needs besides the user.
  struct Day: Sendable {
    let stopAt: UInt64
    let mix: OperationMix
    let meanThinkSeconds: Double
    let seed: UInt64
  }

  func run(_ day: Day) async {
    // A seed of its own, mixed: neighbouring seeds would give every user a shifted copy of
    // one sequence (SplitMix64 steps its state by a constant), and correlated choices.
    var seeder = SplitMix64(seed: day.seed &+ UInt64(index))
    var random = SplitMix64(seed: seeder.next())
    var state = State()
    while true {
      // Exponential pauses (capped), so users do not act in lockstep.
      let think = min(-log(1 - Double.random(in: 0..<1, using: &random)), 10) * day.meanThinkSeconds
      // A pause past the end of the day ends the user now: the run waits for every user.
      guard MonotonicClock.nanos() + UInt64(think * 1e9) < day.stopAt else { return }
      try? await Task.sleep(for: .milliseconds(Int(think * 1000)))
      let operation = day.mix.pick(using: &random)
      let room = pickRoom(using: &random)
      let start = MonotonicClock.nanos()
      do {
        try await perform(operation, in: room, state: &state, random: &random)
        tally.succeeded(operation, startedAt: start)
      } catch {
        tally.failed(operation.rawValue, error)
      }
    }
  }

  /// What the user knows between operations.
  private struct State {
    /// Per room id, the highest seq the user has seen outside a stream (reads and sends).
    var seen: [String: UInt64] = [:]
    var sent = 0
  }

  private func pickRoom(using random: inout SplitMix64) -> Room {
    let open = rooms.filter { $0.stream != nil }
    if !open.isEmpty && Double.random(in: 0..<1, using: &random) < Self.openRoomShare {
      return open.randomElement(using: &random)!
    }
    return rooms.randomElement(using: &random)!
  }

  private func perform(
    _ operation: MixedOperation, in room: Room, state: inout State,
    random: inout SplitMix64
  ) async throws {
    let options = Fixture.options(token: token)
    switch operation {
    case .getMessages:
      // The latest screenful, as opening a conversation loads.
      var request = Chat_V1_GetMessagesRequest()
      request.roomId = room.id
      request.limit = 30
      let page = try await bounded { [request] in
        try await chat.getMessages(request, options: options)
      }
      if let last = page.messages.last {
        state.seen[room.id] = max(state.seen[room.id] ?? 0, last.seq)
      }
    case .listRooms:
      var request = Chat_V1_ListRoomsRequest()
      request.pageSize = 20
      _ = try await bounded { [request] in try await chat.listRooms(request, options: options) }
    case .sendTyping:
      var request = Chat_V1_SendTypingRequest()
      request.roomId = room.id
      request.typing = true
      _ = try await bounded { [request] in try await chat.sendTyping(request, options: options) }
    case .sendMessage:
      var request = Chat_V1_SendMessageRequest()
      request.roomId = room.id
      request.clientMsgId = "\(tag.run)-u\(index)-\(state.sent)"
      request.body = MessageTag.body(sentAt: MonotonicClock.nanos())
      state.sent += 1
      let message = try await bounded { [request] in
        try await chat.sendMessage(request, options: options)
      }
      tally.expectedRoomDeliveries.add(room.otherStreams, ordering: .relaxed)
      state.seen[room.id] = max(state.seen[room.id] ?? 0, message.seq)
    case .markRead:
      // Up to the newest message the user has seen in the room, by a read or on its stream.
      var request = Chat_V1_MarkReadRequest()
      request.roomId = room.id
      request.upToSeq = max(
        state.seen[room.id] ?? 0, room.stream?.lastSeq.load(ordering: .relaxed) ?? 0)
      _ = try await bounded { [request] in try await chat.markRead(request, options: options) }
    case .resubscribe:
      try await streams.randomElement(using: &random)!.reopen(timeout: Self.resubscribeTimeout)
    }
  }

  private func bounded<Response: Sendable>(
    _ call: @escaping @Sendable () async throws -> Response
  ) async throws -> Response {
    try await withTimeout(Self.callTimeout, call)
  }
}
