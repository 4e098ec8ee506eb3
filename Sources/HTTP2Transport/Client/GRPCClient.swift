import NIOCore
import NIOPosix
public import RPCCore
import Synchronization
public import TLS

/// A gRPC client over one HTTP/2 connection (TLS with ALPN h2, or h2c), reconnecting when the
/// connection is gone.
///
/// Calls share the connection as streams. Cancelling the calling task resets its stream.
public final class GRPCClient: RPCClientTransport, Sendable {
  public let host: String
  public let port: Int
  private let maxMessageSize: Int
  private let group: any EventLoopGroup
  private let tls: TLSContext?
  private let serverName: String
  private let current = Mutex<Attempt?>(nil)

  /// The connection in use or being made; `connected` once it is up, so that calls on a live
  /// connection skip the race against their deadline.
  private struct Attempt {
    let future: EventLoopFuture<(any Channel, ClientConnection)>
    var connected = false
  }

  /// - Parameters:
  ///   - tls: a client context (`TLSContext(client:)`); nil speaks plaintext h2c.
  ///   - serverName: the name the server certificate must carry and the SNI; default `host`.
  public init(
    host: String, port: Int, maxReceiveMessageSize: Int = 4 << 20, tls: TLSContext? = nil,
    serverName: String? = nil
  ) {
    precondition(tls?.role != .server, "GRPCClient needs a client TLS context")
    self.host = host
    self.port = port
    self.maxMessageSize = maxReceiveMessageSize
    self.group = MultiThreadedEventLoopGroup.singleton
    self.tls = tls
    self.serverName = serverName ?? host
  }

  /// Closes the connection; calls in flight fail with UNAVAILABLE.
  public func close() async {
    let connection = current.withLock { state in
      defer { state = nil }
      return state?.future
    }
    if let channel = try? await connection?.get().0 { try? await channel.close() }
  }

  public func call<Result: Sendable>(
    _ method: MethodDescriptor, options: CallOptions,
    requests: @escaping @Sendable (any MessageSink) async throws -> Void,
    responses: @escaping @Sendable (any MessageSource) async throws -> Result
  ) async throws -> Result {
    let timing = options.timeout.map { (timeout: $0, deadline: NIODeadline.now() + TimeAmount($0)) }
    let stream = try await openStream(method, options: options, deadline: timing?.deadline)
    // The server is told the timeout (grpc-timeout), but one that never answers, or a
    // connection that went silent, must not hold the call past it either.
    let expiry = timing.map { timeout, deadline in
      stream.eventLoop.scheduleTask(deadline: deadline) {
        stream.fail(
          RPCError(code: .deadlineExceeded, message: "no answer within the timeout of \(timeout)"))
      }
    }
    defer { expiry?.cancel() }
    // The call's tasks run on the connection's loop, where the stream lives: reading a
    // message that has arrived is then a plain function call, not two hops between threads.
    // Code in `responses` that blocks holds up the connection's other calls meanwhile.
    return try await withTaskExecutorPreference(stream.connection.executor) {
      try await run(stream, requests: requests, responses: responses)
    }
  }

  private func run<Result: Sendable>(
    _ stream: ClientStream,
    requests: @escaping @Sendable (any MessageSink) async throws -> Void,
    responses: @escaping @Sendable (any MessageSource) async throws -> Result
  ) async throws -> Result {
    try await withTaskCancellationHandler {
      try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
          do {
            try await requests(stream)
            stream.finishSending()
          } catch {
            // The server would wait for END_STREAM forever: reset the call instead.
            stream.eventLoop.execute { stream.fail(RPCError.from(error)) }
            throw error
          }
        }
        defer { group.cancelAll() }
        let result = try await responses(stream)
        // A handler that stops reading early ends the call.
        stream.eventLoop.execute {
          stream.fail(RPCError(code: .cancelled, message: "the client stopped reading"))
        }
        return result
      }
    } onCancel: {
      stream.eventLoop.execute {
        stream.fail(RPCError(code: .cancelled, message: "the call was cancelled"))
      }
    }
  }

  /// A new stream on a usable connection. The check and the open happen in one turn of the
  /// connection's loop: a connection that closes (GOAWAY, a reset socket) between calls is
  /// replaced, and the call, not yet sent, goes on a new one. Waiting for the connection ends
  /// at `deadline` (DEADLINE_EXCEEDED): a server whose SYNs go unanswered would otherwise hold
  /// the call for NIO's whole connect timeout.
  func openStream(_ method: MethodDescriptor, options: CallOptions, deadline: NIODeadline? = nil)
    async throws -> ClientStream
  {
    for _ in 0..<3 {
      let (future, connected) = current.withLock { state in
        if let existing = state { return (existing.future, existing.connected) }
        let made = connect()
        state = Attempt(future: made)
        made.whenComplete { result in
          self.current.withLock { state in
            guard state?.future === made else { return }
            switch result {
            case .success: state?.connected = true
            // A call whose deadline passed leaves the attempt here for later calls; if it
            // then fails, the next call must make a new one, not inherit the old failure.
            case .failure: state = nil
            }
          }
        }
        return (made, false)
      }
      let stream: ClientStream?
      do {
        guard
          let (channel, connection) = try await Self.connection(
            future, by: connected ? nil : deadline)
        else {
          throw ConnectTimeout()
        }
        stream = try await channel.eventLoop.submit { () throws -> ClientStream? in
          guard connection.isUsable, channel.isActive else {
            // A connection that failed (TLS verification, say) fails the call with its
            // reason; one that merely closed is replaced.
            if connection.failure != nil { throw connection.closedError }
            return nil
          }
          return try connection.open(method, options: options)
        }.get()
      } catch is ConnectTimeout {
        // The connection may yet come up: it stays for the calls that follow.
        throw RPCError(
          code: .deadlineExceeded,
          message: "not connected to \(host):\(port) within the call's timeout")
      } catch let error as RPCError {
        forget(future)
        throw error
      } catch {
        forget(future)
        throw RPCError(code: .unavailable, message: "cannot connect to \(host):\(port): \(error)")
      }
      if let stream { return stream }
      forget(future)
    }
    throw RPCError(code: .unavailable, message: "the connection to \(host):\(port) keeps closing")
  }

  /// Drops `future` as the connection in use, so that the next call connects anew; a newer
  /// attempt made meanwhile stays.
  private func forget(_ future: EventLoopFuture<(any Channel, ClientConnection)>) {
    current.withLock { if $0?.future === future { $0 = nil } }
  }

  /// What `future` brings, or nil if `deadline` passes first.
  private static func connection(
    _ future: EventLoopFuture<(any Channel, ClientConnection)>, by deadline: NIODeadline?
  ) async throws -> (any Channel, ClientConnection)? {
    guard let deadline else { return try await future.get() }
    let loop = future.eventLoop
    let bounded = loop.makePromise(of: (any Channel, ClientConnection)?.self)
    // Whichever comes first completes the promise; NIO ignores the second completion.
    let expiry = loop.scheduleTask(deadline: deadline) { bounded.succeed(nil) }
    defer { expiry.cancel() }
    future.map { Optional($0) }.cascade(to: bounded)
    return try await bounded.futureResult.get()
  }

  private func connect() -> EventLoopFuture<(any Channel, ClientConnection)> {
    let authority = "\(serverName):\(port)"
    let maxMessageSize = maxMessageSize
    let tls = tls
    let serverName = serverName
    // The handlers go in before the socket connects: a server speaks first (its SETTINGS), and
    // bytes that arrived before a handler added once `connect` completed went to the end of
    // the pipeline and were lost. nghttp2 then saw the SETTINGS acknowledgement first and
    // ended the session ("SETTINGS expected"): about one new connection in a thousand to grpcio.
    return ClientBootstrap(group: group)
      .channelOption(.socketOption(.tcp_nodelay), value: 1)
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let handlers = channel.pipeline.syncOperations
          if let tls { try handlers.addHandler(TLSHandler(context: tls, serverName: serverName)) }
          try handlers.addHandler(
            ClientConnection(
              eventLoop: channel.eventLoop, authority: authority,
              scheme: tls == nil ? "http" : "https", maxMessageSize: maxMessageSize))
        }
      }
      .connect(host: host, port: port)
      .flatMap { channel in
        channel.pipeline.handler(type: ClientConnection.self).map { (channel, $0) }
      }
  }
}

/// The call's deadline passed while its connection was still being made.
private struct ConnectTimeout: Error {}
