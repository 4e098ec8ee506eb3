/// Room events with what a stream needs to show them: the messages they concern (as everyone
/// sees them: no viewer's own reactions marked) and the users whose membership changed.
public struct RoomEventPage: Sendable {
  public var events: [RoomEvent]
  /// By message id.
  public var messages: [String: Message]
  /// The current membership of member-event subjects that are still members, by user id.
  public var members: [String: Member]
  /// Profiles of member-event subjects (also those who left), by user id.
  public var users: [String: UserSummary]

  init(events: [RoomEvent], details: ArraySlice<PostgresResult>) throws {
    self.events = events
    let results = Array(details)
    messages = Dictionary(
      try results[0].rows.map { row in
        let message = try Message(row: row); return (message.id, message)
      },
      uniquingKeysWith: { first, _ in first })
    members = Dictionary(
      try results[1].rows.map { row in
        let member = try Member(row: row); return (member.user.id, member)
      },
      uniquingKeysWith: { first, _ in first })
    users = Dictionary(
      try results[2].rows.map { row in
        let user = UserSummary(
          id: try row.decode("id"), displayName: try row.decode("display_name"),
          avatarURL: try row.decode("avatar_url"))
        return (user.id, user)
      },
      uniquingKeysWith: { first, _ in first })
  }
}

/// A new message in a room, for the live streams of members: each listed member's unread
/// count in that room.
public struct RoomActivity: Sendable {
  public var message: Message
  /// By user id.
  public var unreadCounts: [String: Int]
}
