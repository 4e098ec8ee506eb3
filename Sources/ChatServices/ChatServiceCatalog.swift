public import ChatProtos
public import ChatStore
public import RPCCore

/// The chat and follow services chatd registers, and the identity interceptor they need.
public struct ChatServiceCatalog: Sendable {
  let store: Store
  let knownUsers = KnownUsers()
  /// The real-time layer the streams follow: run it in the ServiceGroup.
  public let realtime: Realtime

  public init(store: Store, realtime: RealtimeConfiguration = RealtimeConfiguration()) {
    self.store = store
    self.realtime = Realtime(store: store, configuration: realtime)
  }

  /// Every service of the chat API.
  public func services() -> [any RegistrableRPCService] {
    [
      ChatService(store: store, realtime: realtime),
      UserService(store: store, knownUsers: knownUsers),
      FollowService(store: store),
    ]
  }

  /// The interceptor that authenticates every RPC but health, reflection and interop tests.
  public func identityInterceptor(verifier: TokenVerifier) -> IdentityInterceptor {
    IdentityInterceptor(verifier: verifier, store: store, knownUsers: knownUsers)
  }

  public static let serviceNames = [
    Chat_V1_ChatService.name, Social_V1_UserService.name, Social_V1_FollowService.name,
  ]
}
