import EventFanout

// What a stream handler must know about an event it writes, beyond the event's bytes.

/// A new message: writing it to a recipient's live stream moves their delivered pointer.
final class MessageNote: FeedNote {
  let roomID: String
  let seq: UInt64
  let senderID: String?

  init(roomID: String, seq: UInt64, senderID: String?) {
    self.roomID = roomID
    self.seq = seq
    self.senderID = senderID
  }
}

/// A membership ended: a stream of that user on this room ends after writing it.
final class MemberLeftNote: FeedNote {
  let userID: String

  init(userID: String) { self.userID = userID }
}
