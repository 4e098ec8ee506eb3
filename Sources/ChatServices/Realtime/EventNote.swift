/// What a stream handler must know about an event it writes, beyond the event's bytes.
enum EventNote: Sendable {
  case none
  /// A new message: writing it to a recipient's live stream moves their delivered pointer.
  case message(roomID: String, seq: UInt64, senderID: String?)
  /// A membership ended: a stream of that user on this room ends after writing it.
  case memberLeft(userID: String)
}
