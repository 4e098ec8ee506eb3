public import ChatProtos
import RPCCore

extension ChatClient {
  /// A room's events from `after` on, across disconnects and server restarts: each time its
  /// stream ends (other than for a permanent error) it resubscribes after the last seq it
  /// delivered, so the caller sees every persisted event once, in order. Ephemeral events
  /// (seq 0: typing, heartbeats, `synced` after each replay) pass through as they come.
  public func roomEvents(roomID: String, after seq: UInt64 = 0) -> ResumingSubscription<
    Chat_V1_RoomEvent
  > {
    ResumingSubscription(after: seq, policy: reconnect) { [chat] after, deliver in
      var request = Chat_V1_SubscribeRoomRequest()
      request.roomId = roomID
      request.afterSeq = after
      try await chat.subscribeRoom(request) { events in
        for try await event in events { try await deliver(event, event.seq) }
      }
    }
  }

  /// The caller's notifications from notification seq `after` on, then live room activity,
  /// rooms added and removed; resumes like `roomEvents`.
  public func userEvents(after seq: UInt64 = 0) -> ResumingSubscription<Chat_V1_UserEvent> {
    ResumingSubscription(after: seq, policy: reconnect) { [chat] after, deliver in
      var request = Chat_V1_SubscribeUserRequest()
      request.afterSeq = after
      try await chat.subscribeUser(request) { events in
        for try await event in events { try await deliver(event, event.seq) }
      }
    }
  }
}
