public import Logging
import NIOCore
import NIOPosix
public import RPCCore
public import ServiceLifecycle
import Synchronization
public import TLS

/// A gRPC server over HTTP/2, as a lifecycle `Service`: TLS with ALPN h2 when given a TLS
/// context, h2c with prior knowledge otherwise.
///
/// `run()` listens until graceful shutdown, then sends GOAWAY on every connection, lets calls
/// in flight finish within the grace period and returns once every connection has closed.
public final class GRPCServer: Service, Sendable {
  public let configuration: GRPCServerConfiguration
  private let router: RPCRouter
  private let observer: (any ServerObserver)?
  private let logger: Logger
  private let group: any EventLoopGroup
  /// One task executor (and write lane) per event loop, shared by the loop's connections.
  private let executors: [ObjectIdentifier: EventLoopTaskExecutor]
  /// Each accepted connection takes the context current at that moment (reload: SIGHUP).
  private let tls: ReloadableTLSContext?
  private let state = Mutex<State>(State())

  private struct State {
    var listening: (any Channel)?
    var connections: [ObjectIdentifier: any Channel] = [:]
    var addressWaiters: [CheckedContinuation<SocketAddress, any Error>] = []
    var address: SocketAddress?
    /// Set once shutdown begins: connections accepted after that drain at once.
    var draining = false
  }

  /// - Parameters:
  ///   - router: the methods to serve.
  ///   - interceptors: run around every handler, the first one outermost.
  ///   - tls: serve TLS with this context; nil serves plaintext h2c.
  ///   - observer: told of every connection, stream and routed call (metrics).
  public init(
    configuration: GRPCServerConfiguration, router: RPCRouter,
    interceptors: [any ServerInterceptor] = [], tls: ReloadableTLSContext? = nil,
    observer: (any ServerObserver)? = nil, logger: Logger
  ) {
    self.configuration = configuration
    self.tls = tls
    self.router = router.intercepted(by: interceptors).observed(by: observer)
    self.observer = observer
    self.logger = logger
    let group = MultiThreadedEventLoopGroup.singleton
    self.group = group
    var executors: [ObjectIdentifier: EventLoopTaskExecutor] = [:]
    for loop in group.makeIterator() { executors[ObjectIdentifier(loop)] = .init(loop) }
    self.executors = executors
  }

  /// The address the server listens on, once it does (port 0 resolves to the real port).
  public var listeningAddress: (host: String, port: Int) {
    get async throws {
      let address = try await withCheckedThrowingContinuation { continuation in
        state.withLock { state in
          if let address = state.address {
            continuation.resume(returning: address)
          } else {
            state.addressWaiters.append(continuation)
          }
        }
      }
      return (address.ipAddress ?? configuration.host, address.port ?? configuration.port)
    }
  }

  public func run() async throws {
    let channel: any Channel
    do {
      channel = try await bind()
    } catch {
      let waiters = state.withLock { state in
        defer { state.addressWaiters = [] }
        return state.addressWaiters
      }
      let failure = ListenError(
        host: configuration.host, port: configuration.port, underlying: error)
      for waiter in waiters { waiter.resume(throwing: failure) }
      throw failure
    }
    let address = channel.localAddress!
    let waiters = state.withLock { state in
      state.listening = channel
      state.address = address
      defer { state.addressWaiters = [] }
      return state.addressWaiters
    }
    for waiter in waiters { waiter.resume(returning: address) }
    let listening = "\(address.ipAddress ?? "?"):\(address.port ?? 0)"
    logger.info(
      "chatd listening",
      metadata: ["address": "\(listening)", "protocol": "\(tls == nil ? "h2c" : "h2")"])
    if tls == nil, !address.isLoopback {
      logger.warning(
        "SERVING PLAINTEXT h2c ON A NON-LOOPBACK ADDRESS: anyone on the network can read and alter calls and tokens; use --tls-cert and --tls-key, or a TLS proxy in front",
        metadata: ["address": "\(listening)"])
    }

    // Cancellation (another service of the process failed) closes everything at once: a
    // server left listening without its database would answer every call UNAVAILABLE and
    // keep the process from exiting with the real error.
    try await withTaskCancellationHandler {
      try await withGracefulShutdownHandler {
        try await channel.closeFuture.get()
      } onGracefulShutdown: {
        self.shutdownGracefully()
      }
      try await drainConnections()
    } onCancel: {
      self.closeNow()
    }
  }

  private func bind() async throws -> any Channel {
    let configuration = configuration
    let router = router
    let observer = observer
    let logger = logger
    let tls = tls
    let executors = executors
    return try await ServerBootstrap(group: group)
      .serverChannelOption(.backlog, value: 1024)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
      .childChannelOption(.maxMessagesPerRead, value: 16)
      // NIO keeps one receive buffer per connection for the connection's life, sized by this
      // allocator's first guess (NIO's default: 2 KiB). A gRPC connection mostly idles or
      // reads small frames, and the buffer doubles after any read that fills it, so start
      // small: an idle subscriber's connection then holds 512 bytes instead of 2 KiB.
      .childChannelOption(
        .recvAllocator,
        value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 512, maximum: 65_536)
      )
      .childChannelInitializer { [weak self] channel in
        channel.eventLoop.makeCompletedFuture {
          let connection = ServerConnection(
            configuration: configuration, router: router, observer: observer, logger: logger,
            eventLoop: channel.eventLoop,
            executor: executors[ObjectIdentifier(channel.eventLoop)])
          if let tls {
            try channel.pipeline.syncOperations.addHandler(TLSHandler(context: tls.context))
          }
          try channel.pipeline.syncOperations.addHandler(connection)
          self?.track(channel)
        }
      }
      .bind(host: configuration.host, port: configuration.port).get()
  }

  private func track(_ channel: any Channel) {
    observer?.connectionOpened()
    let id = ObjectIdentifier(channel)
    let draining = state.withLock { state in
      state.connections[id] = channel
      return state.draining
    }
    if draining {
      channel.pipeline.fireUserInboundEventTriggered(
        GracefulShutdownEvent(grace: configuration.shutdownGracePeriod))
    }
    channel.closeFuture.whenComplete { _ in
      _ = self.state.withLock { $0.connections.removeValue(forKey: id) }
      self.observer?.connectionClosed()
    }
  }

  /// Stops accepting, and asks every connection to drain.
  private func shutdownGracefully() {
    let (listening, connections) = state.withLock { state in
      state.draining = true
      return (state.listening, Array(state.connections.values))
    }
    listening?.close(promise: nil)
    let event = GracefulShutdownEvent(grace: configuration.shutdownGracePeriod)
    for connection in connections {
      connection.pipeline.fireUserInboundEventTriggered(event)
    }
  }

  /// Stops accepting and closes every connection without a grace period.
  private func closeNow() {
    let (listening, connections) = state.withLock { state in
      state.draining = true
      return (state.listening, Array(state.connections.values))
    }
    listening?.close(promise: nil)
    for connection in connections { connection.close(promise: nil) }
  }

  private func drainConnections() async throws {
    let connections = state.withLock { Array($0.connections.values) }
    for connection in connections {
      try? await connection.closeFuture.get()
    }
  }
}

/// The server could not listen (another process has the port, say): chatd exits with it.
public struct ListenError: Error, CustomStringConvertible {
  public var host: String
  public var port: Int
  public var underlying: any Error

  public var description: String {
    "cannot listen on \(host):\(port) (--listen): \(underlying)"
  }
}

extension SocketAddress {
  /// 127.0.0.0/8, ::1 and IPv4-mapped loopback: addresses no other machine can reach.
  var isLoopback: Bool {
    guard let ip = ipAddress else { return true }  // a unix socket
    return ip.hasPrefix("127.") || ip == "::1" || ip.hasPrefix("::ffff:127.")
  }
}
