import ChatProtos
import ChatStore
import StandardProtos

extension Chat_V1_Room {
  init(_ room: Room) {
    self.init()
    id = room.id
    kind =
      switch room.kind {
      case .direct: .direct
      case .group: .group
      }
    title = room.title
    members = room.members.map(Chat_V1_Member.init)
    lastSeq = UInt64(max(0, room.lastSeq))
    createdAt = Google_Protobuf_Timestamp(date: room.createdAt)
    lastActivityAt = Google_Protobuf_Timestamp(date: room.lastActivityAt)
  }
}

extension Chat_V1_Member {
  init(_ member: Member) {
    self.init()
    user = Social_V1_UserProfile(member.user)
    role =
      switch member.role {
      case .owner: .owner
      case .admin: .admin
      case .member: .member
      }
    lastReadSeq = UInt64(max(0, member.lastReadSeq))
    lastDeliveredSeq = UInt64(max(0, member.lastDeliveredSeq))
    joinedAt = Google_Protobuf_Timestamp(date: member.joinedAt)
    muted = member.muted
    online = member.online
    lastSeenAt = member.lastSeenAt.map { Google_Protobuf_Timestamp(date: $0) }
  }
}

extension Chat_V1_RoomSummary {
  init(_ summary: RoomSummary) {
    self.init()
    room = Chat_V1_Room(summary.room)
    lastMessage = summary.lastMessage.map(Chat_V1_Message.init)
    unreadCount = UInt32(clamping: summary.unreadCount)
  }
}

extension Chat_V1_Message {
  init(_ message: Message) {
    self.init()
    id = message.id
    roomId = message.roomID
    seq = UInt64(max(0, message.seq))
    senderId = message.senderID ?? ""
    sender = message.sender.map(Social_V1_UserProfile.init)
    clientMsgId = message.clientMsgID
    body = message.body
    replyToMessageId = message.replyToID ?? ""
    replyTo = message.replyTo.map { preview in
      var reply = Chat_V1_MessagePreview()
      reply.id = preview.id
      reply.senderId = preview.senderID ?? ""
      reply.body = preview.body
      reply.deleted = preview.isDeleted
      return reply
    }
    reactions = message.reactions.map { reaction in
      var count = Chat_V1_ReactionCount()
      count.emoji = reaction.emoji
      count.count = UInt32(clamping: reaction.count)
      count.reactedByMe = reaction.reactedByMe
      return count
    }
    createdAt = Google_Protobuf_Timestamp(date: message.createdAt)
    editedAt = message.editedAt.map { Google_Protobuf_Timestamp(date: $0) }
    deletedAt = message.deletedAt.map { Google_Protobuf_Timestamp(date: $0) }
    deleted = message.isDeleted
  }
}
