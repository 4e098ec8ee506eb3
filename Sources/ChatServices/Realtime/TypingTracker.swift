import ChatProtos
import EventFanout
import Foundation
import RPCCore
import StandardProtos
import Synchronization

/// Typing indicators: never persisted, relayed between instances over the bus, and expired
/// here (each instance expires what it relayed) when not renewed within their lifetime.
final class TypingTracker: Sendable {
  let rooms: FeedHub
  let lifetime: Duration
  private let typing = Mutex<[Key: ContinuousClock.Instant]>([:])

  private struct Key: Hashable {
    var roomID: String
    var user: String
  }

  init(rooms: FeedHub, lifetime: Duration) {
    self.rooms = rooms
    self.lifetime = lifetime
  }

  /// The bus relayed a typing change: tell the room's subscribers here, except the typist.
  func received(roomID: String, user: String, typing isTyping: Bool) {
    guard rooms.isFollowed(roomID) else { return }
    let key = Key(roomID: roomID, user: user)
    typing.withLock { typing in
      typing[key] = isTyping ? .now + lifetime : nil
    }
    publish(key, typing: isTyping)
  }

  /// Expires indicators that were not renewed, until the task is cancelled.
  func run() async {
    while true {
      do { try await Task.sleep(for: .milliseconds(500)) } catch { return }
      let now = ContinuousClock.now
      let expired = typing.withLock { typing in
        let expired = typing.filter { $0.value <= now }.map(\.key)
        for key in expired { typing[key] = nil }
        return expired
      }
      for key in expired { publish(key, typing: false) }
    }
  }

  private func publish(_ key: Key, typing isTyping: Bool) {
    let now = Date()
    var body = Chat_V1_Typing()
    body.userId = key.user
    body.typing = isTyping
    if isTyping {
      body.expiresAt = Google_Protobuf_Timestamp(
        date: now.addingTimeInterval(lifetime.timeInterval))
    }
    var event = Chat_V1_RoomEvent()
    event.roomId = key.roomID
    event.at = Google_Protobuf_Timestamp(date: now)
    event.event = .typing(body)
    rooms.publish(
      FeedItem(seq: 0, message: EncodedMessage(event)), to: key.roomID,
      except: key.user)
  }
}

extension Duration {
  var timeInterval: TimeInterval {
    let (seconds, attoseconds) = components
    return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
  }
}
