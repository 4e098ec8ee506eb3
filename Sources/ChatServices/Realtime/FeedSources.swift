import ChatProtos
import ChatStore
import EventFanout
import RPCCore
import StandardProtos

/// A room's persisted events, read from the store and encoded once for every subscriber.
struct RoomFeedSource: FeedSource {
  let store: Store

  func items(of roomID: String, after seq: UInt64, limit: Int) async throws -> [FeedItem] {
    let page = try await store.events.page(
      roomID: roomID, after: Int64(clamping: seq), limit: limit)
    return try await RoomEventEncoder(store: store).events(page).map { event, note in
      FeedItem(seq: event.seq, message: EncodedMessage(event), note: note)
    }
  }

  func lastSeqs(of roomIDs: [String]) async throws -> [String: UInt64] {
    try await store.events.lastSeqs(roomIDs: roomIDs).mapValues { UInt64(max(0, $0)) }
  }
}

/// A user's notification log.
struct NotificationFeedSource: FeedSource {
  let store: Store

  func items(of user: String, after seq: UInt64, limit: Int) async throws -> [FeedItem] {
    try await store.notifications.after(user: user, seq: Int64(clamping: seq), limit: limit).map {
      var event = Chat_V1_UserEvent()
      event.seq = UInt64(max(0, $0.seq))
      event.at = Google_Protobuf_Timestamp(date: $0.createdAt)
      event.event = .notification(Social_V1_Notification($0))
      return FeedItem(seq: event.seq, message: EncodedMessage(event))
    }
  }

  func lastSeqs(of users: [String]) async throws -> [String: UInt64] {
    try await store.notifications.lastSeqs(users: users).mapValues { UInt64(max(0, $0)) }
  }
}
