import ChatStore

/// Remembers which name and picture each user's row last got from their claims, so that the
/// row is written on a user's first call and when their claims change, not on every call.
///
/// Per process: after a restart the first call of each user writes once more (the store's
/// upsert skips rows that are already equal).
actor KnownUsers {
  private var written: [String: Caller] = [:]
  private let capacity: Int

  init(capacity: Int = 100_000) { self.capacity = capacity }

  /// Creates or refreshes the caller's row unless this process already wrote these claims.
  func ensure(_ caller: Caller, in users: UserRepository) async throws {
    if written[caller.id] == caller { return }
    _ = try await users.upsert(
      id: caller.id, displayName: caller.name, avatarURL: caller.picture)
    // A crude bound: forgetting everyone only costs one upsert per user.
    if written.count >= capacity { written.removeAll(keepingCapacity: true) }
    written[caller.id] = caller
  }

  /// Forgets a user (deleted: their next call creates the row again).
  func forget(_ id: String) { written[id] = nil }
}
