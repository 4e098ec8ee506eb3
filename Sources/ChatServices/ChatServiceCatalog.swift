public import ChatProtos
public import RPCCore

/// The chat and follow services chatd registers.
public enum ChatServiceCatalog {
  /// Every service of the chat API, as registered today.
  public static func services() -> [any RegistrableRPCService] {
    [
      PendingService(methods: Chat_V1_ChatService.Method.all),
      PendingService(methods: Social_V1_UserService.Method.all),
      PendingService(methods: Social_V1_FollowService.Method.all),
    ]
  }

  public static let serviceNames = [
    Chat_V1_ChatService.name, Social_V1_UserService.name, Social_V1_FollowService.name,
  ]
}
