public import ChatProtos
public import HTTP2Transport
public import RPCCore
public import TLS

/// A client of one chatd: typed stubs for every service, sharing one HTTP/2 connection (each
/// call is a stream on it; the connection comes back by itself after a failure), and
/// subscriptions that resume by themselves.
///
/// ```swift
/// let client = ChatClient(host: "127.0.0.1", port: 50051, tokens: StaticToken(token))
/// let me = try await client.users.getMe(.init())
/// for try await event in client.roomEvents(roomID: room.id, after: 0) { ... }
/// ```
public final class ChatClient: Sendable {
  public let chat: Chat_V1_ChatService.Client
  public let users: Social_V1_UserService.Client
  public let follows: Social_V1_FollowService.Client
  let connection: GRPCClient
  let reconnect: ReconnectPolicy

  /// - Parameters:
  ///   - tls: speak TLS (server verified against these roots, SNI, h2 by ALPN); nil speaks
  ///     plaintext h2c.
  ///   - defaultTimeout: the deadline of unary calls that set none (subscriptions never
  ///     time out).
  /// - Throws: `TLSError` when the TLS files cannot be used.
  public init(
    host: String, port: Int, tokens: any TokenProvider, tls: TLSClientConfiguration? = nil,
    defaultTimeout: Duration? = .seconds(30), reconnect: ReconnectPolicy = ReconnectPolicy()
  ) throws {
    connection = GRPCClient(
      host: host, port: port, tls: try tls.map { try TLSContext(client: $0) },
      serverName: tls?.serverName)
    let transport = AuthorizingTransport(
      base: connection, tokens: tokens, defaultTimeout: defaultTimeout)
    chat = Chat_V1_ChatService.Client(transport: transport)
    users = Social_V1_UserService.Client(transport: transport)
    follows = Social_V1_FollowService.Client(transport: transport)
    self.reconnect = reconnect
  }

  /// Closes the connection; calls in flight fail with UNAVAILABLE.
  public func close() async {
    await connection.close()
  }
}
