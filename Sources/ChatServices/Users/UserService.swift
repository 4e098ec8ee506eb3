public import ChatProtos
public import ChatStore
public import RPCCore

/// social.v1.UserService: the caller's profile, other profiles, deletion, notifications.
public struct UserService: Social_V1_UserService.ServiceProtocol {
  let store: Store
  let knownUsers: KnownUsers

  init(store: Store, knownUsers: KnownUsers) {
    self.store = store
    self.knownUsers = knownUsers
  }

  public func getMe(request: Social_V1_GetMeRequest, context: ServerContext) async throws
    -> Social_V1_UserProfile
  {
    let caller = try context.authenticatedCaller()
    guard let profile = try await store.users.get(id: caller.id) else {
      throw ServiceError.notFound("user")
    }
    return Social_V1_UserProfile(profile)
  }

  public func updateMe(request: Social_V1_UpdateMeRequest, context: ServerContext) async throws
    -> Social_V1_UserProfile
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    if let name = request.displayName {
      validation.text(name, field: "display_name", limit: 64, required: true)
    }
    if let url = request.avatarUrl, !url.isEmpty {
      if url.count > 2048 || !url.hasPrefix("https://") || url.contains(where: \.isWhitespace) {
        validation.fail("avatar_url", "must be an https URL of at most 2048 characters or empty")
      }
    }
    try validation.check()
    let name = request.displayName?.trimmingCharacters(in: .whitespacesAndNewlines)
    let profile = try await store.users.update(
      id: caller.id, displayName: name, avatarURL: request.avatarUrl)
    return Social_V1_UserProfile(profile)
  }

  public func getUser(request: Social_V1_GetUserRequest, context: ServerContext) async throws
    -> Social_V1_UserProfile
  {
    _ = try context.authenticatedCaller()
    var validation = Validation()
    validation.userID(request.userId, field: "user_id")
    try validation.check()
    guard let profile = try await store.users.get(id: request.userId) else {
      throw ServiceError.notFound("user")
    }
    return Social_V1_UserProfile(profile)
  }

  public func deleteUser(request: Social_V1_DeleteUserRequest, context: ServerContext)
    async throws -> Social_V1_DeleteUserResponse
  {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    validation.userID(request.userId, field: "user_id")
    try validation.check()
    guard request.userId == caller.id || caller.role == .admin else {
      throw ServiceError.permissionDenied("only the user themselves or an admin may delete a user")
    }
    guard try await store.users.delete(id: request.userId) else {
      throw ServiceError.notFound("user")
    }
    await knownUsers.forget(request.userId)
    var response = Social_V1_DeleteUserResponse()
    response.userId = request.userId
    return response
  }
}
