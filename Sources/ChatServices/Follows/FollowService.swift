public import ChatProtos
import ChatStore
public import RPCCore

/// social.v1.FollowService: one-way follows, each first follow notified to the followed user.
public struct FollowService: Social_V1_FollowService.ServiceProtocol {
  let store: Store

  init(store: Store) { self.store = store }

  public func follow(request: Social_V1_FollowRequest, context: ServerContext) async throws
    -> Social_V1_FollowResponse
  {
    let caller = try context.authenticatedCaller()
    try Self.validateOther(request.userId, caller: caller)
    do {
      let (relationship, changed) = try await store.follows.follow(
        follower: caller.id, user: request.userId)
      return Self.response(relationship, changed: changed)
    } catch let error as StoreError where error.kind == .notFound {
      throw ServiceError.notFound("user")
    }
  }

  public func unfollow(request: Social_V1_UnfollowRequest, context: ServerContext) async throws
    -> Social_V1_FollowResponse
  {
    let caller = try context.authenticatedCaller()
    try Self.validateOther(request.userId, caller: caller)
    let (relationship, changed) = try await store.follows.unfollow(
      follower: caller.id, user: request.userId)
    return Self.response(relationship, changed: changed)
  }

  public func getRelationship(
    request: Social_V1_GetRelationshipRequest, context: ServerContext
  ) async throws -> Social_V1_Relationship {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.userID(request.userId, field: "user_id")
    try validation.check()
    return Social_V1_Relationship(
      try await store.follows.relationship(viewer: caller.id, other: request.userId))
  }

  public func listFollowers(request: Social_V1_ListFollowsRequest, context: ServerContext)
    async throws -> Social_V1_ListFollowsResponse
  {
    try await list(request, context: context, followers: true)
  }

  public func listFollowing(request: Social_V1_ListFollowsRequest, context: ServerContext)
    async throws -> Social_V1_ListFollowsResponse
  {
    try await list(request, context: context, followers: false)
  }

  private func list(
    _ request: Social_V1_ListFollowsRequest, context: ServerContext, followers: Bool
  ) async throws -> Social_V1_ListFollowsResponse {
    let caller = try context.authenticatedCaller()
    let user = request.userId.isEmpty ? caller.id : request.userId
    var validation = Validation()
    validation.userID(user, field: "user_id")
    let limit = validation.pageSize(request.pageSize)
    let cursor = validation.pageToken(request.pageToken)
    if let cursor, !FollowRepository.isWellFormedCursor(cursor) {
      validation.fail("page_token", "is not a page token this server issued")
    }
    try validation.check()
    guard try await store.users.get(id: user) != nil else { throw ServiceError.notFound("user") }
    let (page, total) =
      followers
      ? try await store.follows.followers(of: user, limit: limit, after: cursor)
      : try await store.follows.following(of: user, limit: limit, after: cursor)
    var response = Social_V1_ListFollowsResponse()
    response.users = page.items.map(Social_V1_UserProfile.init)
    response.nextPageToken = page.nextCursor ?? ""
    response.totalCount = UInt64(max(0, total))
    return response
  }

  private static func validateOther(_ userID: String, caller: Caller) throws {
    var validation = Validation()
    validation.userID(userID, field: "user_id")
    if userID == caller.id { validation.fail("user_id", "must not be the caller") }
    try validation.check()
  }

  private static func response(_ relationship: Relationship, changed: Bool)
    -> Social_V1_FollowResponse
  {
    var response = Social_V1_FollowResponse()
    response.relationship = Social_V1_Relationship(relationship)
    response.changed = changed
    return response
  }
}
