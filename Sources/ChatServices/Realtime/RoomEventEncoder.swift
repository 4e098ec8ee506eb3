import ChatProtos
import ChatStore
import EventFanout
import Foundation
import StandardProtos

/// Turns persisted room events into the RoomEvent messages of the streams, as everyone sees
/// them (reactions carry counts; `reacted_by_me` is false: the reaction events say who).
struct RoomEventEncoder: Sendable {
  let store: Store

  func events(_ page: RoomEventPage) async throws -> [(
    event: Chat_V1_RoomEvent, note: (any FeedNote)?
  )] {
    var rooms: [String: Chat_V1_Room] = [:]
    for event in page.events where event.kind == .roomUpdated && rooms[event.roomID] == nil {
      if let summary = try await store.rooms.room(id: event.roomID, viewer: nil) {
        rooms[event.roomID] = Chat_V1_Room(summary.room)
      }
    }
    return page.events.map { event in
      var message = Chat_V1_RoomEvent()
      message.seq = UInt64(max(0, event.seq))
      message.roomId = event.roomID
      message.at = Google_Protobuf_Timestamp(date: event.createdAt)
      message.cursor = event.cursor?.description ?? ""
      var note: (any FeedNote)?
      let subject = event.subjectUserID ?? ""
      switch event.kind {
      case .messageCreated:
        let body = self.message(event, page)
        message.event = .messageCreated(body)
        note = MessageNote(roomID: event.roomID, seq: message.seq, senderID: event.actorID)
      case .messageUpdated: message.event = .messageUpdated(self.message(event, page))
      case .messageDeleted: message.event = .messageDeleted(self.message(event, page))
      case .reactionChanged: message.event = .reactionChanged(self.message(event, page))
      case .read:
        var receipt = Chat_V1_ReadReceipt()
        receipt.userId = subject
        receipt.lastReadSeq = UInt64(max(0, event.value))
        message.event = .read(receipt)
      case .delivered:
        var receipt = Chat_V1_DeliveryReceipt()
        receipt.userId = subject
        receipt.lastDeliveredSeq = UInt64(max(0, event.value))
        message.event = .delivered(receipt)
      case .memberJoined: message.event = .memberJoined(change(event, page))
      case .memberLeft:
        message.event = .memberLeft(change(event, page))
        note = MemberLeftNote(userID: subject)
      case .roomUpdated:
        message.event = .roomUpdated(rooms[event.roomID] ?? Chat_V1_Room(id: event.roomID))
      }
      return (message, note)
    }
  }

  private func message(_ event: RoomEvent, _ page: RoomEventPage) -> Chat_V1_Message {
    guard let id = event.messageID else { return Chat_V1_Message() }
    if let message = page.messages[id] { return Chat_V1_Message(message) }
    var missing = Chat_V1_Message()
    missing.id = id
    missing.roomId = event.roomID
    return missing
  }

  private func change(_ event: RoomEvent, _ page: RoomEventPage) -> Chat_V1_MemberChange {
    var change = Chat_V1_MemberChange()
    change.userId = event.subjectUserID ?? ""
    change.actorUserId = event.actorID ?? ""
    if event.kind == .memberJoined, let member = page.members[change.userId] {
      change.member = Chat_V1_Member(member)
    } else if let user = page.users[change.userId] {
      var member = Chat_V1_Member()
      member.user = Social_V1_UserProfile(user)
      change.member = member
    }
    return change
  }
}

extension Chat_V1_Room {
  init(id: String) {
    self.init()
    self.id = id
  }
}
