import ChatProtos
import ChatStore
import EventFanout
import Foundation
import Logging
import RPCCore
import StandardProtos
import Synchronization

/// Live room activity for SubscribeUser streams: a new message in any of a user's rooms (with
/// their unread count), rooms added and removed. Keeps, for the users with a live stream on
/// this process, which rooms they are in, so that an event costs work only when someone here
/// cares about its room. Activity is live only: a stream that is behind may miss some (the
/// conversation list reloads with ListRooms), never a persisted notification.
final class ActivityRouter: Sendable {
  let store: Store
  let users: FeedHub
  let logger: Logger
  private let state = Mutex(State())

  private struct State {
    var streams: [String: Int] = [:]
    var roomsByUser: [String: Set<String>] = [:]
    var usersByRoom: [String: Set<String>] = [:]
    var pending: [(roomID: String, seq: Int64)] = []
    var flushing = false

    mutating func index(_ user: String, in room: String) {
      roomsByUser[user, default: []].insert(room)
      usersByRoom[room, default: []].insert(user)
    }

    mutating func unindex(_ user: String, from room: String) {
      roomsByUser[user]?.remove(room)
      usersByRoom[room]?.remove(user)
      if usersByRoom[room]?.isEmpty == true { usersByRoom[room] = nil }
    }
  }

  init(store: Store, users: FeedHub, logger: Logger) {
    self.store = store
    self.users = users
    self.logger = logger
  }

  /// A SubscribeUser stream opened: the first one of a user loads their rooms.
  func streamOpened(user: String) async throws {
    let first = state.withLock { state in
      state.streams[user, default: 0] += 1
      return state.streams[user] == 1
    }
    guard first else { return }
    let rooms = try await store.rooms.roomIDs(of: user)
    state.withLock { state in
      guard state.streams[user] != nil else { return }
      for room in rooms { state.index(user, in: room) }
    }
  }

  func streamClosed(user: String) {
    state.withLock { state in
      guard let count = state.streams[user] else { return }
      if count > 1 {
        state.streams[user] = count - 1
        return
      }
      state.streams[user] = nil
      for room in state.roomsByUser[user] ?? [] { state.unindex(user, from: room) }
      state.roomsByUser[user] = nil
    }
  }

  /// The bus announced event `seq` of `roomID`: read it (with others, batched) when a local
  /// user stream follows the room.
  func roomAnnounced(_ roomID: String, seq: Int64) {
    let start = state.withLock { state in
      guard state.usersByRoom[roomID] != nil else { return false }
      state.pending.append((roomID, seq))
      defer { state.flushing = true }
      return !state.flushing
    }
    if start { Task { await flush() } }
  }

  /// The bus announced a membership change (kind 7 joined, 8 left).
  func membershipChanged(kind: Int, roomID: String, user: String) {
    let followed = state.withLock { state in
      guard state.streams[user] != nil else { return false }
      if kind == 7 { state.index(user, in: roomID) } else { state.unindex(user, from: roomID) }
      return true
    }
    guard followed else { return }
    if kind != 7 {
      publish(.roomRemoved(roomID), to: user)
      return
    }
    Task {
      do {
        guard let summary = try await store.rooms.room(id: roomID, viewer: user) else { return }
        publish(.roomAdded(Chat_V1_RoomSummary(summary)), to: user)
      } catch {
        logger.warning("room_added not sent", metadata: ["room": "\(roomID)", "error": "\(error)"])
      }
    }
  }

  private func flush() async {
    while true {
      let (events, interested) = state.withLock { state in
        let events = state.pending
        state.pending = []
        if events.isEmpty { state.flushing = false }
        var interested: [String: Set<String>] = [:]
        for event in events { interested[event.roomID] = state.usersByRoom[event.roomID] }
        return (events, interested)
      }
      if events.isEmpty { return }
      let users = Array(Set(interested.values.joined()))
      do {
        for activity in try await store.events.activity(events: events, users: users) {
          let message = Chat_V1_Message(activity.message)
          let note = MessageNote(
            roomID: message.roomId, seq: message.seq, senderID: activity.message.senderID)
          for user in interested[message.roomId] ?? [] {
            guard let unread = activity.unreadCounts[user] else { continue }
            var body = Chat_V1_RoomActivity()
            body.roomId = message.roomId
            body.message = message
            body.unreadCount = UInt32(clamping: unread)
            publish(.roomActivity(body), to: user, note: note, at: activity.message.createdAt)
          }
        }
      } catch {
        logger.warning("room activity not sent", metadata: ["error": "\(error)"])
      }
    }
  }

  private func publish(
    _ event: Chat_V1_UserEvent.Event, to user: String, note: (any FeedNote)? = nil,
    at: Date = Date()
  ) {
    var message = Chat_V1_UserEvent()
    message.at = Google_Protobuf_Timestamp(date: at)
    message.event = event
    users.publish(FeedItem(seq: 0, message: EncodedMessage(message), note: note), to: user)
  }
}
