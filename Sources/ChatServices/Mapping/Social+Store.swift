import ChatProtos
import ChatStore
import Foundation
import StandardProtos

extension Social_V1_UserProfile {
  init(_ profile: UserProfile) {
    self.init()
    id = profile.id
    displayName = profile.displayName
    avatarUrl = profile.avatarURL
    followerCount = UInt64(max(0, profile.followerCount))
    followingCount = UInt64(max(0, profile.followingCount))
    createdAt = Google_Protobuf_Timestamp(date: profile.createdAt)
  }

  /// The short form embedded in messages, members and notifications (no counts).
  init(_ summary: UserSummary) {
    self.init()
    id = summary.id
    displayName = summary.displayName
    avatarUrl = summary.avatarURL
  }
}

extension Social_V1_Relationship {
  init(_ relationship: Relationship) {
    self.init()
    userId = relationship.userID
    following = relationship.following
    followedBy = relationship.followedBy
  }
}

extension Social_V1_Notification {
  init(_ notification: ChatStore.Notification) {
    self.init()
    seq = UInt64(max(0, notification.seq))
    kind =
      switch notification.kind {
      case .followed: .followed
      case .addedToRoom: .addedToRoom
      case .removedFromRoom: .removedFromRoom
      }
    actor = notification.actor.map(Social_V1_UserProfile.init)
    roomId = notification.roomID ?? ""
    deepLink = notification.deepLink
    createdAt = Google_Protobuf_Timestamp(date: notification.createdAt)
    read = notification.read
  }
}
