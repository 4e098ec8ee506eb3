import ChatProtos
import Foundation
import StandardProtos

/// Prints results as text for people or as JSON lines for scripts. JSON follows the proto3
/// JSON mapping where it matters to scripts: lowerCamelCase names, 64-bit integers as
/// strings, enums by name, timestamps in RFC 3339.
struct Output {
  let json: Bool

  func emit(_ object: [String: Any], text: @autoclosure () -> String) {
    var line: Data
    if json {
      line =
        (try? JSONSerialization.data(
          withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        ?? Data("{}".utf8)
    } else {
      line = Data(text().utf8)
    }
    line.append(0x0A)
    // Unbuffered: a tail piped into another program shows each event as it arrives.
    FileHandle.standardOutput.write(line)
  }
}

// MARK: - JSON objects of the API's messages

extension Google_Protobuf_Timestamp {
  var rfc3339: String {
    let date = Date(timeIntervalSince1970: TimeInterval(seconds) + TimeInterval(nanos) / 1e9)
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    return formatter.string(from: date)
  }

  var clock: String {
    let date = Date(timeIntervalSince1970: TimeInterval(seconds))
    return date.formatted(date: .omitted, time: .shortened)
  }
}

extension Social_V1_UserProfile {
  var object: [String: Any] {
    var object: [String: Any] = [
      "id": id, "displayName": displayName, "followerCount": String(followerCount),
      "followingCount": String(followingCount),
    ]
    if !avatarUrl.isEmpty { object["avatarUrl"] = avatarUrl }
    if let createdAt { object["createdAt"] = createdAt.rfc3339 }
    return object
  }

  var text: String { displayName.isEmpty ? id : "\(displayName) (\(id))" }
}

extension Chat_V1_Message {
  var object: [String: Any] {
    var object: [String: Any] = [
      "id": id, "roomId": roomId, "seq": String(seq), "senderId": senderId, "body": body,
      "clientMsgId": clientMsgId, "deleted": deleted,
      "reactions": reactions.map {
        ["emoji": $0.emoji, "count": Int($0.count), "reactedByMe": $0.reactedByMe] as [String: Any]
      },
    ]
    if !replyToMessageId.isEmpty { object["replyToMessageId"] = replyToMessageId }
    if let createdAt { object["createdAt"] = createdAt.rfc3339 }
    if let editedAt { object["editedAt"] = editedAt.rfc3339 }
    return object
  }

  var text: String {
    let who = sender.map { $0.displayName.isEmpty ? $0.id : $0.displayName } ?? senderId
    let time = createdAt?.clock ?? ""
    let content = deleted ? "(deleted)" : body + (editedAt == nil ? "" : " (edited)")
    let reacted = reactions.map { "\($0.emoji)\($0.count)" }.joined(separator: " ")
    return "#\(seq) \(time) \(who): \(content)" + (reacted.isEmpty ? "" : "  [\(reacted)]")
  }
}

extension Chat_V1_Room {
  var object: [String: Any] {
    [
      "id": id, "kind": kind == .direct ? "ROOM_KIND_DIRECT" : "ROOM_KIND_GROUP", "title": title,
      "lastSeq": String(lastSeq),
      "members": members.map { member -> [String: Any] in
        var object: [String: Any] = [
          "user": member.user?.object ?? [:], "online": member.online,
          "lastReadSeq": String(member.lastReadSeq),
        ]
        object["role"] =
          switch member.role {
          case .owner: "MEMBER_ROLE_OWNER"
          case .admin: "MEMBER_ROLE_ADMIN"
          default: "MEMBER_ROLE_MEMBER"
          }
        return object
      },
    ]
  }

  var text: String {
    let names = members.compactMap {
      $0.user.map { $0.displayName.isEmpty ? $0.id : $0.displayName }
    }
    let label =
      kind == .group
      ? "\(title) (\(names.joined(separator: ", ")))" : names.joined(separator: " & ")
    return "\(id)  \(label)"
  }
}

extension Social_V1_Notification {
  var kindName: String {
    switch kind {
    case .followed: "NOTIFICATION_KIND_FOLLOWED"
    case .addedToRoom: "NOTIFICATION_KIND_ADDED_TO_ROOM"
    case .removedFromRoom: "NOTIFICATION_KIND_REMOVED_FROM_ROOM"
    default: "NOTIFICATION_KIND_UNSPECIFIED"
    }
  }

  var object: [String: Any] {
    var object: [String: Any] = [
      "seq": String(seq), "kind": kindName, "deepLink": deepLink, "read": read,
    ]
    if let actor { object["actor"] = actor.object }
    if !roomId.isEmpty { object["roomId"] = roomId }
    if let createdAt { object["createdAt"] = createdAt.rfc3339 }
    return object
  }

  var text: String {
    let who = actor?.text ?? "someone"
    let what =
      switch kind {
      case .followed: "\(who) followed you"
      case .addedToRoom: "\(who) added you to room \(roomId)"
      case .removedFromRoom: "\(who) removed you from room \(roomId)"
      default: "notification from \(who)"
      }
    return "#\(seq) \(read ? " " : "*") \(what)  \(deepLink)"
  }
}
