public import ChatProtos
import ChatStore
public import RPCCore

extension ChatService {
  public func addMembers(request: Chat_V1_AddMembersRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    if request.userIds.isEmpty { validation.fail("user_ids", "must name at least one user") }
    if request.userIds.count > Self.maxMembers {
      validation.fail("user_ids", "a group has at most \(Self.maxMembers) members")
    }
    for (index, id) in request.userIds.enumerated() {
      validation.userID(id, field: "user_ids[\(index)]")
    }
    try validation.check()
    try await requireManager(roomID: request.roomId, caller: caller)
    let room = try await store.rooms.room(id: request.roomId, viewer: nil)
    if let room, room.room.members.count + Set(request.userIds).count > Self.maxMembers {
      throw ValidationError(field: "user_ids", "a group has at most \(Self.maxMembers) members")
    }
    do {
      return Chat_V1_Room(
        try await store.rooms.addMembers(
          roomID: request.roomId, actor: caller.id, users: Array(Set(request.userIds))))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("a user")
    } catch let error as StoreError where error.kind == .invalidInput {
      throw Self.directRoom
    }
  }

  public func removeMember(request: Chat_V1_RemoveMemberRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    validation.userID(request.userId, field: "user_id")
    try validation.check()
    do {
      _ = try await store.rooms.removeMember(
        roomID: request.roomId, actor: caller.id, user: request.userId,
        moderator: caller.role == .admin)
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("room")
    } catch let error as StoreError where error.kind == .invalidInput {
      throw Self.directRoom
    } catch let error as StoreError where error.kind == .permissionDenied {
      throw ServiceError.permissionDenied(
        "owners remove anyone, admins remove members; everyone may leave")
    }
    guard let summary = try await store.rooms.room(id: request.roomId, viewer: nil) else {
      throw ServiceError.notFound("room")
    }
    return Chat_V1_Room(summary.room)
  }

  public func updateRoom(request: Chat_V1_UpdateRoomRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    if let title = request.title {
      validation.text(title, field: "title", limit: Self.maxTitleLength, required: true)
    }
    try validation.check()
    guard let title = request.title?.trimmingCharacters(in: .whitespacesAndNewlines) else {
      guard let summary = try await store.rooms.room(id: request.roomId, viewer: caller.id)
      else { throw ServiceError.notFound("room") }
      return Chat_V1_Room(summary.room)
    }
    do {
      return Chat_V1_Room(
        try await store.rooms.update(roomID: request.roomId, actor: caller.id, title: title))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("room")
    } catch let error as StoreError where error.kind == .invalidInput {
      throw Self.directRoom
    } catch let error as StoreError where error.kind == .permissionDenied {
      throw ServiceError.permissionDenied("only owners and admins rename a group")
    }
  }

  public func updateMembership(request: Chat_V1_UpdateMembershipRequest, context: ServerContext)
    async throws -> Chat_V1_Member
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    try validation.check()
    guard let muted = request.muted else {
      let summary = try await store.rooms.room(id: request.roomId, viewer: caller.id)
      guard let member = summary?.room.members.first(where: { $0.user.id == caller.id }) else {
        throw ServiceError.notFound("room")
      }
      return Chat_V1_Member(member)
    }
    do {
      return Chat_V1_Member(
        try await store.rooms.setMuted(roomID: request.roomId, user: caller.id, muted: muted))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("room")
    }
  }

  /// NOT_FOUND for non-members, PERMISSION_DENIED for members who are not owner or admin.
  func requireManager(roomID: String, caller: Caller) async throws {
    guard let role = try await store.rooms.role(roomID: roomID, user: caller.id) else {
      throw ServiceError.notFound("room")
    }
    guard role == .owner || role == .admin else {
      throw ServiceError.permissionDenied("only owners and admins manage members")
    }
  }

  static let directRoom = RPCError.withDetails(
    code: .failedPrecondition, message: "a direct chat has exactly its two people",
    detail: .errorInfo(reason: "DIRECT_ROOM"))
}
