import BenchSupport
import ChatProtos

/// The rooms of the mixed chat day: many direct chats, some groups of 5 to 50. Drawn from a
/// seed, so every run (and every build compared) gets the same shape.
struct MixedPopulation: Sendable {
  struct Room: Sendable {
    let id: String
    /// Member user indexes (into the fixture's members).
    let members: [Int]
    /// The room's last seq when it was created: streams resume after it, as an app that has
    /// just loaded the room does.
    let lastSeq: UInt64
  }

  let rooms: [Room]
  let directRooms: Int
  /// Per user, indexes into `rooms`: all of their rooms, and the few their app has open
  /// (a SubscribeRoom stream each).
  let roomsOfUser: [[Int]]
  let openRoomsOfUser: [[Int]]
  /// Per room, the users with a stream on it: who a message there must reach.
  let streamUsersOfRoom: [Set<Int>]

  /// Who is in which room, before any room exists.
  struct Plan {
    var directs: [(Int, Int)] = []
    var groups: [[Int]] = []

    /// About `directsPerUser` direct chats per user between random pairs (at least one each),
    /// and `groups` groups whose sizes follow what chat apps see: mostly small (family,
    /// friends, a team), some of a few dozen.
    init(users: Int, directsPerUser: Int, groups: Int, random: inout SplitMix64) {
      let pairs = min(users * directsPerUser / 2, users * (users - 1) / 2)
      var seen = Set<[Int]>()
      while directs.count < pairs {
        let a = Int.random(in: 0..<users, using: &random)
        let b = Int.random(in: 0..<users, using: &random)
        guard a != b, seen.insert([min(a, b), max(a, b)]).inserted else { continue }
        directs.append((a, b))
      }
      // Everyone has someone to talk to: a user the draw left out gets one direct chat.
      var paired = Set(directs.flatMap { [$0.0, $0.1] })
      for user in 0..<users where !paired.contains(user) {
        var peer = Int.random(in: 0..<users - 1, using: &random)
        if peer >= user { peer += 1 }
        // New pair: `user` was in none.
        directs.append((user, peer))
        paired.insert(peer)
      }
      for _ in 0..<groups {
        let size = Self.groupSize(using: &random)
        let members = Array((0..<users).shuffled(using: &random).prefix(min(size, users)))
        if members.count >= 2 { self.groups.append(members) }
      }
    }

    /// 60% of groups have 5 to 10 members, 30% 11 to 25, 10% 26 to 50.
    static func groupSize(using random: inout SplitMix64) -> Int {
      switch Int.random(in: 0..<10, using: &random) {
      case 0..<6: Int.random(in: 5...10, using: &random)
      case 6..<9: Int.random(in: 11...25, using: &random)
      default: Int.random(in: 26...50, using: &random)
      }
    }
  }

  /// Creates the planned rooms through the API (a direct chat by its first user, a group by
  /// its first member as owner) and picks each user's open rooms.
  static func create(
    plan: Plan, openRooms: Int, fixture: Fixture, servers: Servers, random: inout SplitMix64
  ) async throws -> MixedPopulation {
    let requests = plan.directs.map { [$0.0, $0.1] } + plan.groups
    let created = try await withThrowingTaskGroup(of: (Int, Chat_V1_Room).self) { group in
      var rooms: [Chat_V1_Room?] = Array(repeating: nil, count: requests.count)
      var inFlight = 0
      for (index, members) in requests.enumerated() {
        let isDirect = index < plan.directs.count
        // Direct chats a few at a time: each is a database transaction, and the cores are
        // shared. Groups one at a time: groups created at once with shared members deadlock
        // in PostgreSQL (each locks its members' user rows for their notifications, in list
        // order), which the server answers with ABORTED.
        while inFlight >= (isDirect ? 8 : 1), let (done, room) = try await group.next() {
          rooms[done] = room
          inFlight -= 1
        }
        inFlight += 1
        group.addTask {
          let owner = members[0]
          let chat = servers.chat(forStream: owner)
          let options = Fixture.options(token: fixture.memberTokens[owner])
          if isDirect {
            var request = Chat_V1_StartChatRequest()
            request.peerUserId = fixture.memberIDs[members[1]]
            return (index, try await chat.startChat(request, options: options))
          }
          var request = Chat_V1_CreateGroupRequest()
          request.title = "mixed group \(index)"
          request.memberUserIds = members.dropFirst().map { fixture.memberIDs[$0] }
          return (index, try await chat.createGroup(request, options: options))
        }
      }
      for try await (done, room) in group { rooms[done] = room }
      return rooms.map { $0! }
    }
    let rooms = zip(requests, created).map { members, room in
      Room(id: room.id, members: members, lastSeq: room.lastSeq)
    }

    let users = fixture.memberIDs.count
    var roomsOfUser = Array(repeating: [Int](), count: users)
    for (index, room) in rooms.enumerated() {
      for member in room.members { roomsOfUser[member].append(index) }
    }
    var openRoomsOfUser: [[Int]] = []
    var streamUsersOfRoom = Array(repeating: Set<Int>(), count: rooms.count)
    for (user, mine) in roomsOfUser.enumerated() {
      let open = Array(mine.shuffled(using: &random).prefix(openRooms))
      for room in open { streamUsersOfRoom[room].insert(user) }
      openRoomsOfUser.append(open)
    }
    return MixedPopulation(
      rooms: rooms, directRooms: plan.directs.count, roomsOfUser: roomsOfUser,
      openRoomsOfUser: openRoomsOfUser, streamUsersOfRoom: streamUsersOfRoom)
  }
}
