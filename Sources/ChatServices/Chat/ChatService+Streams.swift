public import ChatProtos
import ChatStore
import EventFanout
import Foundation
public import RPCCore
import StandardProtos

/// The live streams of one room and of one user. Each replays what the client missed from
/// the database, sends `synced`, then follows the process's fan-out hub; see EventFanout for
/// how the join is gapless and how a slow reader catches up from the database.
extension ChatService {
  public func subscribeRoom(
    request: Chat_V1_SubscribeRoomRequest, response: RPCWriter<Chat_V1_RoomEvent>,
    context: ServerContext
  ) async throws {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    try validation.check()
    let roomID = request.roomId.lowercased()
    // One query: whether the caller may see the room, and where its log starts and ends.
    guard let room = try await store.rooms.subscriptionCheck(roomID: roomID, user: caller.id),
      room.isMember || caller.role == .service
    else { throw ServiceError.notFound("room") }
    try Self.checkResume(after: request.afterSeq, last: room.lastSeq, of: "the room's")
    try Self.checkPruned(after: request.afterSeq, pruned: room.prunedSeq)

    let member = caller.role == .service ? nil : caller.id
    let subscription = realtime.rooms.subscribe(
      to: roomID, after: request.afterSeq, subscriber: caller.id)
    defer { subscription.close() }
    try await realtime.streams.tracking(.room) {
      try await forward(subscription, to: response, roomID: roomID, member: member)
    }
  }

  public func subscribeUser(
    request: Chat_V1_SubscribeUserRequest, response: RPCWriter<Chat_V1_UserEvent>,
    context: ServerContext
  ) async throws {
    let caller = try context.authenticatedCaller()
    let last = try await store.notifications.lastSeqs(users: [caller.id])[caller.id] ?? 0
    try Self.checkResume(after: request.afterSeq, last: last, of: "the notification log's")

    try await realtime.presence.streamOpened(user: caller.id)
    defer { realtime.presence.streamClosed(user: caller.id) }
    try await realtime.activity.streamOpened(user: caller.id)
    defer { realtime.activity.streamClosed(user: caller.id) }
    let subscription = realtime.users.subscribe(
      to: caller.id, after: request.afterSeq, subscriber: caller.id)
    defer { subscription.close() }
    try await realtime.streams.tracking(.user) {
      try await forward(subscription, to: response, user: caller.id)
    }
  }

  /// Writes a room subscription's outputs until it ends; a member whose membership ends
  /// gets the `member_left` event, then NOT_FOUND.
  private func forward(
    _ subscription: FeedSubscription, to response: RPCWriter<Chat_V1_RoomEvent>,
    roomID: String, member: String?
  ) async throws {
    let delivered = member.map { realtime.deliveries.openPointer(roomID: roomID, user: $0) }
    defer { delivered.map(realtime.deliveries.close) }
    // A message of another member written to the stream moves the member's delivered pointer.
    let wrote: @Sendable (FeedItem) -> Void = { item in
      if let note = item.note as? MessageNote, note.senderID != member {
        delivered?.delivered.store(note.seq, ordering: .relaxed)
      }
    }
    let endsStream: @Sendable (FeedItem) -> Bool = { item in
      guard let left = item.note as? MemberLeftNote else { return false }
      return left.userID == member
    }
    if let direct = response.direct {
      subscription.deliverDirectly(on: direct.lane, batch: direct.batch) { item in
        // The member's own departure ends the call, which only the task can do.
        guard !endsStream(item), direct.write(encoded: item.message) == .written else {
          return .deferred
        }
        wrote(item)
        return .sent
      }
    }
    while true {
      let outputs = try await subscription.next()
      if outputs.isEmpty { return }
      for output in outputs {
        switch output {
        case .item(let item):
          try await response.write(encoded: item.message)
          if endsStream(item) { throw ServiceError.notFound("room") }
          wrote(item)
        case .synced(let seq):
          try await response.write(
            encoded: .roomEvent(roomID: roomID, .synced(Chat_V1_Synced(seq))))
        case .heartbeat:
          try await response.write(
            encoded: .roomEvent(roomID: roomID, .heartbeat(Chat_V1_Heartbeat())))
        }
      }
    }
  }

  /// Writes a user subscription's outputs until it ends.
  private func forward(
    _ subscription: FeedSubscription,
    to response: RPCWriter<Chat_V1_UserEvent>, user: String
  ) async throws {
    // Another member's message written to the stream is delivered to the user.
    let deliveries = realtime.deliveries
    let wrote: @Sendable (FeedItem) -> Void = { item in
      if let note = item.note as? MessageNote, note.senderID != user {
        deliveries.record(roomID: note.roomID, user: user, seq: note.seq)
      }
    }
    if let direct = response.direct {
      subscription.deliverDirectly(on: direct.lane, batch: direct.batch) { item in
        guard direct.write(encoded: item.message) == .written else { return .deferred }
        wrote(item)
        return .sent
      }
    }
    while true {
      let outputs = try await subscription.next()
      if outputs.isEmpty { return }
      for output in outputs {
        switch output {
        case .item(let item):
          try await response.write(encoded: item.message)
          wrote(item)
        case .synced(let seq):
          try await response.write(encoded: .userEvent(.synced(Chat_V1_Synced(seq))))
        case .heartbeat:
          try await response.write(encoded: .userEvent(.heartbeat(Chat_V1_Heartbeat())))
        }
      }
    }
  }

  /// A resume point past the end of the log comes from another database (or a bug): the
  /// client's state cannot be trusted, and replaying nothing would hide that.
  static func checkResume(after seq: UInt64, last: Int64, of log: String) throws {
    guard seq > UInt64(max(0, last)) else { return }
    throw RPCError.withDetails(
      code: .outOfRange,
      message: "after_seq \(seq) is beyond \(log) last seq \(last): reload and resubscribe",
      detail: .errorInfo(reason: "AFTER_SEQ_OUT_OF_RANGE"))
  }

  /// A resume point inside the pruned part of the room's log: replaying from it would skip
  /// the deleted events silently. The messages themselves stay readable with GetMessages.
  static func checkPruned(after seq: UInt64, pruned: Int64) throws {
    guard pruned > 0, seq < UInt64(pruned) else { return }
    throw RPCError.withDetails(
      code: .outOfRange,
      message:
        "the room's events up to seq \(pruned) were pruned, after_seq \(seq) cannot resume: reload with GetMessages and resubscribe with after_seq >= \(pruned)",
      detail: .errorInfo(reason: "AFTER_SEQ_PRUNED"))
  }
}

extension EncodedMessage {
  // The events a stream makes itself are encoded outside the stream's async function: a
  // generated event value held across a suspension would sit in every idle stream's task
  // frame (a few KiB each, measured with heaptrack).
  @inline(never)
  static func roomEvent(roomID: String, _ event: Chat_V1_RoomEvent.Event) -> EncodedMessage {
    EncodedMessage(Chat_V1_RoomEvent(roomID: roomID, event))
  }

  @inline(never)
  static func userEvent(_ event: Chat_V1_UserEvent.Event) -> EncodedMessage {
    EncodedMessage(Chat_V1_UserEvent(event))
  }
}

extension Chat_V1_RoomEvent {
  /// An ephemeral event (seq 0) of the room, at the server's time.
  init(roomID: String, _ event: Event) {
    self.init()
    roomId = roomID
    at = Google_Protobuf_Timestamp(date: Date())
    self.event = event
  }
}

extension Chat_V1_UserEvent {
  /// A live-only event (seq 0), at the server's time.
  init(_ event: Event) {
    self.init()
    at = Google_Protobuf_Timestamp(date: Date())
    self.event = event
  }
}

extension Chat_V1_Synced {
  init(_ lastSeq: UInt64) {
    self.init()
    self.lastSeq = lastSeq
  }
}
