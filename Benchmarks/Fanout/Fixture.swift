import AccessTokens
import ChatProtos
import Foundation
import HTTP2Transport
import RPCCore

/// The users of one run, with their tokens, and the groups they meet in.
///
/// Subscribers are real members (role `user`), not `service` callers: that is the path users
/// take, and it records a delivered pointer per member and message. A group holds at most 500
/// members, so larger subscriber counts open several streams per member.
struct Fixture: Sendable {
  /// Unique per run: user ids and client_msg_ids carry it, so runs against one database
  /// never see each other's data.
  let run: String
  let senderID: String
  let senderToken: String
  let memberIDs: [String]
  let memberTokens: [String]

  static func make(secret: String, users: Int) async throws -> Fixture {
    let run = String(UUID().uuidString.prefix(8)).lowercased()
    let minter = TokenMinter(secret: secret)
    let senderID = "fb-\(run)-sender"
    let senderToken = try await minter.mint(user: senderID, name: "Fanout sender")
    var memberIDs: [String] = []
    var memberTokens: [String] = []
    for index in 0..<users {
      let id = "fb-\(run)-u\(index)"
      memberIDs.append(id)
      memberTokens.append(try await minter.mint(user: id, name: "Member \(index)"))
    }
    return Fixture(
      run: run, senderID: senderID, senderToken: senderToken, memberIDs: memberIDs,
      memberTokens: memberTokens)
  }

  static func options(token: String) -> CallOptions {
    CallOptions(metadata: ["authorization": .string("Bearer \(token)")])
  }

  /// A user's row exists after their first authenticated call; groups only take existing
  /// users, so every member calls GetMe once.
  func register(through client: GRPCClient) async throws {
    let users = Social_V1_UserService.Client(transport: client)
    let tokens = [senderToken] + memberTokens
    try await withThrowingTaskGroup(of: Void.self) { group in
      // A few at a time: each is a database write, and the cores are shared with the server.
      for (index, token) in tokens.enumerated() {
        if index >= 8 { try await group.next() }
        group.addTask {
          _ = try await users.getMe(Social_V1_GetMeRequest(), options: Self.options(token: token))
        }
      }
      try await group.waitForAll()
    }
  }

  /// A group owned by the sender with the first `members` users: its id and last seq.
  /// Subscribers resume after that seq, as a client that has just loaded the room does;
  /// from 0 every stream would first replay the room's history (a member_joined event per
  /// member), which measures replay rather than fan-out.
  func createGroup(members: Int, title: String, through chat: Chat_V1_ChatService.Client)
    async throws -> (id: String, lastSeq: UInt64)
  {
    var request = Chat_V1_CreateGroupRequest()
    request.title = title
    request.memberUserIds = Array(memberIDs.prefix(members))
    let room = try await chat.createGroup(request, options: Self.options(token: senderToken))
    return (room.id, room.lastSeq)
  }
}
