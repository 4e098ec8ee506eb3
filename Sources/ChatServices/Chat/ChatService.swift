public import ChatProtos
public import ChatStore
public import RPCCore

/// chat.v1.ChatService: rooms (this file), messages and read state (`+Messages`). Only
/// members see a room: everyone else gets NOT_FOUND, as if it did not exist; the service
/// role reads any room. The streams are in `+Streams` and `+Firehose`.
public struct ChatService: Chat_V1_ChatService.ServiceProtocol {
  /// The most members a group may have, its owner included.
  static let maxMembers = 500
  static let maxTitleLength = 200

  let store: Store
  let realtime: Realtime

  init(store: Store, realtime: Realtime) {
    self.store = store
    self.realtime = realtime
  }

  public func startChat(request: Chat_V1_StartChatRequest, context: ServerContext) async throws
    -> Chat_V1_Room
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.userID(request.peerUserId, field: "peer_user_id")
    if request.peerUserId == caller.id { validation.fail("peer_user_id", "must not be the caller") }
    try validation.check()
    do {
      return Chat_V1_Room(
        try await store.rooms.startDirect(user: caller.id, peer: request.peerUserId).room)
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("user")
    }
  }

  public func createGroup(request: Chat_V1_CreateGroupRequest, context: ServerContext)
    async throws -> Chat_V1_Room
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.text(request.title, field: "title", limit: Self.maxTitleLength, required: true)
    for (index, id) in request.memberUserIds.enumerated() {
      validation.userID(id, field: "member_user_ids[\(index)]")
    }
    var members: [String] = []
    for id in request.memberUserIds where id != caller.id && !members.contains(id) {
      members.append(id)
    }
    if members.count + 1 > Self.maxMembers {
      validation.fail("member_user_ids", "a group has at most \(Self.maxMembers) members")
    }
    try validation.check()
    let title = request.title.trimmingCharacters(in: .whitespacesAndNewlines)
    do {
      return Chat_V1_Room(
        try await store.rooms.createGroup(owner: caller.id, title: title, members: members))
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("a member user")
    }
  }

  public func getRoom(request: Chat_V1_GetRoomRequest, context: ServerContext) async throws
    -> Chat_V1_RoomSummary
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.uuid(request.roomId, field: "room_id")
    try validation.check()
    guard let summary = try await store.rooms.room(id: request.roomId, viewer: caller.viewer)
    else { throw ServiceError.notFound("room") }
    return Chat_V1_RoomSummary(summary)
  }

  public func listRooms(request: Chat_V1_ListRoomsRequest, context: ServerContext) async throws
    -> Chat_V1_ListRoomsResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    let limit = validation.pageSize(request.pageSize)
    let cursor = validation.pageToken(request.pageToken)
    if let cursor, !RoomRepository.isWellFormedCursor(cursor) {
      validation.fail("page_token", "is not a page token this server issued")
    }
    try validation.check()
    let page = try await store.rooms.rooms(of: caller.id, limit: limit, after: cursor)
    var response = Chat_V1_ListRoomsResponse()
    response.rooms = page.items.map(Chat_V1_RoomSummary.init)
    response.nextPageToken = page.nextCursor ?? ""
    return response
  }
}

extension Caller {
  /// Whose view of rooms the store gives: nil (every room) for the service role.
  var viewer: String? { role == .service ? nil : id }
}
