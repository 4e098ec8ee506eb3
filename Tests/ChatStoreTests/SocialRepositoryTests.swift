import Foundation
import Testing

@testable import ChatStore

@Suite struct SocialRepositoryTests {
  let store: Store

  init() async throws {
    store = try await makeTestStore()
    try await store.makeUsers("alice", "bob", "carol")
  }

  @Test func upsertWritesOnlyWhenClaimsChange() async throws {
    let first = try await store.users.upsert(id: "dan", displayName: "Dan", avatarURL: "a")
    #expect(first.displayName == "Dan")
    let xmin = try await store.pool.query("SELECT xmin::text AS x FROM users WHERE id = 'dan'")
      .first!.decode("x", as: String.self)
    _ = try await store.users.upsert(id: "dan", displayName: "Dan", avatarURL: "a")
    let same = try await store.pool.query("SELECT xmin::text AS x FROM users WHERE id = 'dan'")
      .first!.decode("x", as: String.self)
    #expect(xmin == same)
    let renamed = try await store.users.upsert(id: "dan", displayName: "Daniel", avatarURL: "b")
    #expect(renamed.displayName == "Daniel")
    #expect(renamed.avatarURL == "b")
    #expect(try await store.users.get(id: "nobody") == nil)
    #expect(
      await storeErrorKind {
        _ = try await store.users.update(id: "nobody", displayName: "x", avatarURL: nil)
      } == .notFound)
    let partial = try await store.users.update(id: "dan", displayName: nil, avatarURL: "c")
    #expect(partial.displayName == "Daniel")
    #expect(partial.avatarURL == "c")
  }

  @Test func followIsIdempotentAndNotifies() async throws {
    let (relationship, changed) = try await store.follows.follow(follower: "alice", user: "bob")
    #expect(changed)
    #expect(relationship == Relationship(userID: "bob", following: true, followedBy: false))
    #expect(try await !store.follows.follow(follower: "alice", user: "bob").changed)
    #expect(
      await storeErrorKind { _ = try await store.follows.follow(follower: "alice", user: "alice") }
        == .invalidInput)
    #expect(
      await storeErrorKind { _ = try await store.follows.follow(follower: "alice", user: "ghost") }
        == .notFound)
    _ = try await store.follows.follow(follower: "bob", user: "alice")
    #expect(
      try await store.follows.relationship(viewer: "alice", other: "bob")
        == Relationship(userID: "bob", following: true, followedBy: true))

    let notifications = try await store.notifications.list(user: "bob", limit: 10)
    #expect(notifications.page.items.count == 1)
    let followed = notifications.page.items[0]
    #expect(followed.kind == .followed)
    #expect(followed.actor?.displayName == "Name alice")
    #expect(followed.deepLink == "chatd://users/alice")
    #expect(!followed.read)
    #expect(notifications.unreadCount == 1)
    #expect(try await store.notifications.markRead(user: "bob", upTo: followed.seq) == 0)
    #expect(try await store.notifications.markRead(user: "bob", upTo: 0) == 0)
    #expect(try await store.notifications.list(user: "bob", limit: 10).page.items[0].read)
    #expect(try await store.notifications.after(user: "bob", seq: 0, limit: 10).map(\.seq) == [1])

    let (after, undone) = try await store.follows.unfollow(follower: "alice", user: "bob")
    #expect(undone)
    #expect(!after.following)
    #expect(try await !store.follows.unfollow(follower: "alice", user: "bob").changed)
  }

  @Test func unreadOnlyPagesHoldOnlyUnreadNotifications() async throws {
    try await store.makeUsers("f1", "f2", "f3", "f4", "f5")
    for id in ["f1", "f2", "f3", "f4", "f5"] {
      _ = try await store.follows.follow(follower: id, user: "bob")
    }
    _ = try await store.notifications.markRead(user: "bob", upTo: 2)
    var pages: [[Int64]] = []
    var cursor: String?
    repeat {
      let (page, unread) = try await store.notifications.list(
        user: "bob", limit: 2, after: cursor, unreadOnly: true)
      #expect(unread == 3)
      #expect(page.items.allSatisfy { !$0.read })
      pages.append(page.items.map(\.seq))
      cursor = page.nextCursor
    } while cursor != nil
    // Full pages, and no cursor past the last unread one however many read ones follow.
    #expect(pages == [[5, 4], [3]])
    let all = try await store.notifications.list(user: "bob", limit: 10)
    #expect(all.page.items.map(\.seq) == [5, 4, 3, 2, 1])

    _ = try await store.notifications.markRead(user: "bob", upTo: 5)
    let none = try await store.notifications.list(user: "bob", limit: 2, unreadOnly: true)
    #expect(none.page.items.isEmpty)
    #expect(none.page.nextCursor == nil)
  }

  @Test func followerListsPageWithCounts() async throws {
    try await store.makeUsers("f1", "f2", "f3")
    for id in ["f1", "f2", "f3"] { _ = try await store.follows.follow(follower: id, user: "carol") }
    var names: [String] = []
    var cursor: String?
    repeat {
      let (page, total) = try await store.follows.followers(of: "carol", limit: 2, after: cursor)
      #expect(total == 3)
      names += page.items.map(\.id)
      cursor = page.nextCursor
    } while cursor != nil
    #expect(names == ["f3", "f2", "f1"])
    let following = try await store.follows.following(of: "f1", limit: 10)
    #expect(following.page.items.map(\.id) == ["carol"])
    #expect(following.page.items[0].followerCount == 3)
    #expect(try await store.users.get(id: "f1")?.followingCount == 1)
  }

  @Test func deletingAUserCascadesAndTombstones() async throws {
    let room = try await store.rooms.createGroup(owner: "alice", title: "g", members: ["carol"])
    let message = try await store.messages.send(
      roomID: room.id, sender: "carol", clientMsgID: "c", body: "bye"
    ).message
    _ = try await store.follows.follow(follower: "carol", user: "alice")
    _ = try await store.follows.follow(follower: "alice", user: "carol")
    _ = try await store.messages.react(messageID: message.id, user: "carol", emoji: "👋", add: true)
    #expect(try await store.users.delete(id: "carol"))
    #expect(try await !store.users.delete(id: "carol"))
    #expect(try await store.users.get(id: "carol") == nil)
    let tombstone = try #require(try await store.messages.message(id: message.id, viewer: "alice"))
    #expect(tombstone.isDeleted)
    #expect(tombstone.body.isEmpty)
    #expect(tombstone.senderID == nil)
    #expect(try await store.users.get(id: "alice")?.followerCount == 0)
    #expect(try await store.follows.following(of: "alice", limit: 10).total == 0)
    let summary = try #require(try await store.rooms.room(id: room.id, viewer: "alice"))
    #expect(summary.room.members.map(\.user.id) == ["alice"])
    // alice's FOLLOWED notification from carol stays, without an actor.
    let notes = try await store.notifications.list(user: "alice", limit: 10).page.items
    #expect(notes.map(\.kind) == [.followed])
    #expect(notes[0].actor == nil)
    let events = try await store.events.after(roomID: room.id, seq: 0, limit: 20).map(\.kind)
    #expect(events.last == .memberLeft)
  }

  @Test func presenceFollowsLeases() async throws {
    try await store.presence.renewLease(instance: "i1", ttl: .seconds(60))
    try await store.presence.renewLease(instance: "i2", ttl: .milliseconds(1))
    try await store.presence.streamOpened(instance: "i1", user: "alice")
    try await store.presence.streamOpened(instance: "i1", user: "alice")
    try await store.presence.streamOpened(instance: "i2", user: "bob")
    try await Task.sleep(for: .milliseconds(20))
    #expect(try await store.presence.online(["alice", "bob", "carol"]) == ["alice"])
    try await store.presence.streamClosed(instance: "i1", user: "alice")
    #expect(try await store.presence.online(["alice"]) == ["alice"])
    try await store.presence.streamClosed(instance: "i1", user: "alice")
    #expect(try await store.presence.online(["alice"]).isEmpty)
    #expect(try await store.users.get(id: "alice")?.lastSeenAt != nil)
    #expect(try await store.presence.reapExpired() == 1)
    #expect(try await store.users.get(id: "bob")?.lastSeenAt != nil)
  }
}
