/// What a handler knows about the RPC it serves, beyond the request message.
public struct ServerContext: Sendable {
  public let method: MethodDescriptor
  /// The request headers, without HTTP/2 pseudo-headers and gRPC reserved ones.
  public let requestMetadata: Metadata
  /// When the client stops waiting (`grpc-timeout`); the handler is cancelled then.
  public let deadline: ContinuousClock.Instant?
  /// The remote address, for logs: `ipv4:127.0.0.1:53412`.
  public let peer: String
  /// The client certificate the transport verified (TLS with client CAs), nil otherwise.
  public let peerIdentity: PeerIdentity?
  /// Values that interceptors attach for handlers (e.g. the authenticated caller).
  public var values: ContextValues
  private let call: any ServerCallHandle

  public init(
    method: MethodDescriptor, requestMetadata: Metadata, deadline: ContinuousClock.Instant?,
    peer: String, call: any ServerCallHandle, peerIdentity: PeerIdentity? = nil,
    values: ContextValues = ContextValues()
  ) {
    self.method = method
    self.requestMetadata = requestMetadata
    self.deadline = deadline
    self.peer = peer
    self.call = call
    self.peerIdentity = peerIdentity
    self.values = values
  }

  /// Sets the response headers. Takes effect if no message has been sent yet.
  public func setInitialMetadata(_ metadata: Metadata) {
    call.setInitialMetadata(metadata)
  }

  /// Adds metadata to the trailers sent with the final status.
  public func addTrailingMetadata(_ metadata: Metadata) {
    call.addTrailingMetadata(metadata)
  }

  /// Compresses the messages sent from now on, when the client accepts the server's encoding.
  public func setResponseCompression(_ enabled: Bool) {
    call.setResponseCompression(enabled)
  }

  /// Whether the last request message read arrived compressed on the wire.
  public var lastRequestMessageWasCompressed: Bool { call.lastRequestMessageWasCompressed }
}

/// The transport's side of a server call, as a handler's context reaches it.
public protocol ServerCallHandle: AnyObject, Sendable {
  func setInitialMetadata(_ metadata: Metadata)
  func addTrailingMetadata(_ metadata: Metadata)
  func setResponseCompression(_ enabled: Bool)
  var lastRequestMessageWasCompressed: Bool { get }
}

/// A key for a value in `ContextValues`.
public protocol ContextKey {
  associatedtype Value: Sendable
}

/// Typed values keyed by `ContextKey` types.
public struct ContextValues: Sendable {
  private var storage: [ObjectIdentifier: any Sendable] = [:]

  public init() {}

  public subscript<Key: ContextKey>(_ key: Key.Type) -> Key.Value? {
    get { storage[ObjectIdentifier(key)] as? Key.Value }
    set { storage[ObjectIdentifier(key)] = newValue }
  }
}
