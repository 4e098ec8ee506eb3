public import ChatProtos
import ChatStore
public import RPCCore

extension UserService {
  public func listNotifications(
    request: Social_V1_ListNotificationsRequest, context: ServerContext
  ) async throws -> Social_V1_ListNotificationsResponse {
    let caller = try context.authenticatedCaller()
    var validation = Validation()
    let limit = validation.pageSize(request.pageSize)
    let cursor = validation.pageToken(request.pageToken)
    if let cursor, Int64(cursor) == nil {
      validation.fail("page_token", "is not a page token this server issued")
    }
    try validation.check()
    let (page, unread) = try await store.notifications.list(
      user: caller.id, limit: limit, after: cursor, unreadOnly: request.unreadOnly)
    var response = Social_V1_ListNotificationsResponse()
    response.notifications = page.items.map(Social_V1_Notification.init)
    response.nextPageToken = page.nextCursor ?? ""
    response.unreadCount = UInt32(clamping: unread)
    return response
  }

  public func markNotificationsRead(
    request: Social_V1_MarkNotificationsReadRequest, context: ServerContext
  ) async throws -> Social_V1_MarkNotificationsReadResponse {
    let caller = try context.authenticatedCaller()
    let upTo = Int64(clamping: request.upToSeq)
    var response = Social_V1_MarkNotificationsReadResponse()
    response.unreadCount = UInt32(
      clamping: try await store.notifications.markRead(user: caller.id, upTo: upTo))
    return response
  }
}
