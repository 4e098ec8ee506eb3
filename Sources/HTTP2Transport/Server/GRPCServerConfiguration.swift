/// How a gRPC server listens and treats its connections. Defaults suit a laptop and are safe
/// on a server.
public struct GRPCServerConfiguration: Sendable {
  /// Host and port to listen on; port 0 picks a free one.
  public var host: String
  public var port: Int
  /// Largest request message accepted (after decompression); larger ones end the call with
  /// RESOURCE_EXHAUSTED. Default 4 MiB, as other gRPC servers.
  public var maxReceiveMessageSize: Int = 4 * 1024 * 1024
  /// SETTINGS_MAX_CONCURRENT_STREAMS advertised to each client.
  public var maxConcurrentStreams: UInt32 = 1000
  /// Per-stream receive window; the connection window is 8 times larger.
  public var initialWindowSize: UInt32 = 1024 * 1024
  /// SETTINGS_MAX_HEADER_LIST_SIZE: larger header blocks are refused.
  public var maxHeaderListSize: UInt32 = 16 * 1024
  /// How long a new connection has to send the HTTP/2 connection preface and its first
  /// SETTINGS frame (counted from accept, so a TLS handshake is included); slower ones are
  /// closed. Without it a client trickling the preface a byte at a time (slowloris) holds a
  /// socket until the idle timeout. Nil: no limit.
  public var prefaceTimeout: Duration? = .seconds(10)
  /// Interval of server PINGs on a connection; a PING unanswered after `keepaliveTimeout`
  /// closes it. Nil disables them.
  public var keepaliveInterval: Duration? = .seconds(2 * 60 * 60)
  public var keepaliveTimeout: Duration = .seconds(20)
  /// A connection without streams for this long is closed with GOAWAY. Nil: never.
  public var maxConnectionIdle: Duration? = .seconds(30 * 60)
  /// A connection older than this is drained with GOAWAY. Nil: never.
  public var maxConnectionAge: Duration?
  /// How long in-flight calls may run after a GOAWAY before the connection closes.
  public var shutdownGracePeriod: Duration = .seconds(10)

  public init(host: String = "127.0.0.1", port: Int = 50051) {
    self.host = host
    self.port = port
  }
}
