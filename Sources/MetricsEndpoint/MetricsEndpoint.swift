public import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
public import Prometheus
public import ServiceLifecycle
import Synchronization

/// The Prometheus scrape endpoint: `GET /metrics` over HTTP/1.1 on its own port, as a
/// lifecycle `Service`. Every scrape first runs `refresh` (for gauges sampled at scrape
/// time), then renders the registry in the text exposition format 0.0.4.
public final class MetricsEndpoint: Service, Sendable {
  public let host: String
  public let port: Int
  private let registry: PrometheusCollectorRegistry
  private let refresh: @Sendable () -> Void
  private let logger: Logger
  private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])

  public init(
    host: String, port: Int, registry: PrometheusCollectorRegistry,
    refresh: @escaping @Sendable () -> Void = {}, logger: Logger
  ) {
    self.host = host
    self.port = port
    self.registry = registry
    self.refresh = refresh
    self.logger = logger
  }

  /// Listens until graceful shutdown, then closes the listener and every scrape connection.
  public func run() async throws {
    let channel: any Channel
    do {
      channel = try await bind()
    } catch {
      throw ListenError(host: host, port: port, underlying: error)
    }
    let address = channel.localAddress
    logger.info(
      "metrics listening",
      metadata: [
        "address": "\(address?.ipAddress ?? host):\(address?.port ?? port)", "path": "/metrics",
      ])
    // Cancellation comes when another service of the process failed: stop at once so that
    // chatd exits with that service's error.
    try await withTaskCancellationHandler {
      try await withGracefulShutdownHandler {
        try await channel.closeFuture.get()
      } onGracefulShutdown: {
        channel.close(promise: nil)
      }
    } onCancel: {
      channel.close(promise: nil)
    }
    for connection in connections.withLock({ Array($0.values) }) {
      try? await connection.close()
    }
  }

  /// The endpoint could not listen (another process has the port, say): chatd exits with it.
  public struct ListenError: Error, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var underlying: any Error

    public var description: String {
      "the metrics endpoint cannot listen on \(host):\(port) (--metrics-listen; 'off' disables it): \(underlying)"
    }
  }

  private func bind() async throws -> any Channel {
    try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
      .childChannelInitializer { [weak self] channel in
        channel.eventLoop.makeCompletedFuture {
          guard let self else { return }
          try channel.pipeline.syncOperations.configureHTTPServerPipeline(
            withErrorHandling: true)
          try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(render: self.render))
          self.track(channel)
        }
      }
      .bind(host: host, port: port).get()
  }

  /// One scrape's body.
  @Sendable func render() -> [UInt8] {
    refresh()
    return registry.emitToBuffer()
  }

  private func track(_ channel: any Channel) {
    let id = ObjectIdentifier(channel)
    connections.withLock { $0[id] = channel }
    channel.closeFuture.whenComplete { _ in
      _ = self.connections.withLock { $0.removeValue(forKey: id) }
    }
  }
}
