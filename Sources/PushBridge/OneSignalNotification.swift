import ChatStore
import Foundation

/// The body of one OneSignal create-notification request (`POST /notifications`), built from
/// a claimed outbox row. The fields are described in docs/push.md.
struct OneSignalNotification {
  /// Longest `contents.en`, in characters, ellipsis included.
  static let previewLimit = 120

  var fields: [String: Any]

  init(item: OutboxRepository.Item, configuration: PushConfiguration) {
    var fields: [String: Any] = [
      "app_id": configuration.appID,
      "target_channel": "push",
      "include_aliases": ["external_id": [item.userID]],
      "ios_badgeType": "SetTo",
      "ios_badgeCount": item.unreadTotal,
      "ttl": configuration.ttl,
      "priority": configuration.priority,
      "idempotency_key": item.idempotencyKey,
    ]
    if let sound = configuration.iosSound { fields["ios_sound"] = sound }
    if let channel = configuration.androidChannelID { fields["android_channel_id"] = channel }
    switch item.kind {
    case .message:
      let room = item.roomID ?? ""
      let message = item.messageID ?? ""
      let link = configuration.roomLinkTemplate
        .replacingOccurrences(of: "{room_id}", with: room)
        .replacingOccurrences(of: "{message_id}", with: message)
      let sender = item.senderName.isEmpty ? "Someone" : item.senderName
      let heading =
        if let title = item.groupTitle, !title.isEmpty { "\(sender) in \(title)" } else { sender }
      fields["headings"] = ["en": heading]
      fields["contents"] = ["en": item.body.preview(limit: Self.previewLimit)]
      fields["data"] = [
        "type": "message", "room_id": room, "message_id": message, "deep_link": link,
      ]
      fields["app_url"] = link
      // One conversation is one thread on iOS, and its newest push replaces the older ones.
      fields["thread_id"] = room
      fields["collapse_id"] = room
    case .follow:
      let actor = item.actorID ?? ""
      let name = item.actorName.isEmpty ? "Someone" : item.actorName
      let link = configuration.userLinkTemplate.replacingOccurrences(of: "{user_id}", with: actor)
      fields["headings"] = ["en": "New follower"]
      fields["contents"] = ["en": "\(name) started following you"]
      fields["data"] = [
        "type": "follow", "actor_id": actor, "actor_name": name,
        "actor_avatar_url": item.actorAvatarURL, "deep_link": link,
      ]
      fields["app_url"] = link
      fields["thread_id"] = "follows"
      if !item.actorAvatarURL.isEmpty {
        // The follower's picture: Android's large icon; iOS shows attachments.
        fields["large_icon"] = item.actorAvatarURL
        fields["ios_attachments"] = ["avatar": item.actorAvatarURL]
      }
    }
    self.fields = fields
  }

  /// UTF-8 JSON with sorted keys (stable bytes for the same row).
  func json() -> [UInt8] {
    let data =
      (try? JSONSerialization.data(
        withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
    return Array(data)
  }
}
