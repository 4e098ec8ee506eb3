/// Where the transport takes outgoing messages of a call, already encoded.
public protocol MessageSink: Sendable {
  /// Sends one message; returns when the transport can take another (flow control).
  func write(_ bytes: [UInt8]) async throws
}

/// Where the transport hands over incoming messages of a call, still encoded.
///
/// - Important: one consumer at a time.
public protocol MessageSource: Sendable {
  /// The next message, or nil once the peer has finished sending.
  func next() async throws -> [UInt8]?
}

/// Writes messages of one type to the peer.
public struct RPCWriter<Message: WireMessage>: Sendable {
  let sink: any MessageSink

  public init(_ sink: any MessageSink) { self.sink = sink }

  /// Sends a message; suspends while the peer's flow-control window is closed.
  public func write(_ message: Message) async throws {
    try await sink.write(message.wireBytes())
  }

  /// Sends a message that was encoded once for many writers.
  ///
  /// - Important: the bytes must encode a `Message`.
  public func write(encoded: EncodedMessage) async throws {
    try await sink.write(encoded.bytes)
  }

  public func write(contentsOf messages: some Sequence<Message>) async throws {
    for message in messages { try await write(message) }
  }
}

/// The messages a peer sends, decoded as they are read.
public struct RPCAsyncSequence<Message: WireMessage>: AsyncSequence, Sendable {
  public typealias Element = Message
  private let source: any MessageSource

  public init(_ source: any MessageSource) { self.source = source }

  public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(source: source) }

  public struct AsyncIterator: AsyncIteratorProtocol {
    let source: any MessageSource

    public mutating func next() async throws -> Message? {
      guard let bytes = try await source.next() else { return nil }
      return try Message.decodeForRPC(bytes)
    }
  }
}

extension WireMessage {
  /// Decodes a received message; bad bytes become INVALID_ARGUMENT for the peer.
  static func decodeForRPC(_ bytes: [UInt8]) throws -> Self {
    do {
      return try Self(wireBytes: bytes)
    } catch let error as any RPCErrorConvertible {
      throw error.rpcError
    } catch {
      throw RPCError(
        code: .invalidArgument, message: "the message is not a valid \(Self.self) encoding")
    }
  }
}
