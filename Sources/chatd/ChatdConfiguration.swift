import ArgumentParser
import ChatServices
import ChatStore
import Foundation
import HTTP2Transport
import PushBridge
import TLS

/// Everything chatd is configured with, checked once at start.
struct ChatdConfiguration {
  var server: GRPCServerConfiguration
  /// Nil: plaintext h2c.
  var tls: TLSServerConfiguration?
  var enableInteropTesting: Bool
  var enableBenchService: Bool
  var store: StoreConfiguration
  /// The configured keys; `hasKeys` false means the development secret of the data dir.
  var identity: IdentityConfiguration
  var rateLimits: RateLimitConfiguration
  var realtime: RealtimeConfiguration
  /// Where `/metrics` listens; nil: `--metrics-listen off`, and no metrics are recorded.
  var metricsAddress: (host: String, port: Int)?
  /// Nil: no OneSignal configured, no push rows written.
  var push: PushConfiguration?

  init(command: ChatdCommand) throws {
    let (host, port) = try Self.hostAndPort(command.listen, flag: "--listen")
    guard command.maxReceiveMessageSize > 0 else {
      throw ValidationError("--max-receive-message-size must be positive")
    }
    server = GRPCServerConfiguration(host: host, port: port)
    server.maxReceiveMessageSize = command.maxReceiveMessageSize
    server.maxConcurrentStreams = command.maxConcurrentStreams
    server.keepaliveInterval =
      command.keepaliveInterval > 0 ? .seconds(command.keepaliveInterval) : nil
    server.maxConnectionIdle =
      command.maxConnectionIdle > 0 ? .seconds(command.maxConnectionIdle) : nil
    server.prefaceTimeout =
      command.prefaceTimeout > 0 ? .milliseconds(Int(command.prefaceTimeout * 1000)) : nil
    server.maxConnectionAge =
      command.maxConnectionAge > 0 ? .seconds(command.maxConnectionAge) : nil
    server.shutdownGracePeriod = .seconds(max(0, command.shutdownGrace))
    tls = try command.tls.configuration()
    enableInteropTesting = command.enableInteropTesting
    enableBenchService = command.enableBenchService
    // An empty URL (CHATD_DATABASE_URL=) means none: the embedded cluster.
    store = StoreConfiguration(
      databaseURL: command.databaseURL.flatMap { $0.isEmpty ? nil : $0 }, dataDir: command.dataDir)
    guard command.databaseMaxConnections > 0 else {
      throw ValidationError("--database-max-connections must be positive")
    }
    store.maxConnections = command.databaseMaxConnections
    switch command.databasePreparedStatements {
    case "on": store.preparedStatements = true
    case "off": store.preparedStatements = false
    default: throw ValidationError("--database-prepared-statements must be on or off")
    }
    identity = try command.identity.configuration()
    push = try command.push.configuration()
    // The SQL functions write push rows only when the store's sessions say push is on.
    store.pushGracePeriod = push?.gracePeriod
    guard command.heartbeatInterval >= 0.05, command.presenceLease >= 0.3 else {
      throw ValidationError("--heartbeat-interval and --presence-lease are too short")
    }
    realtime = RealtimeConfiguration()
    realtime.heartbeatInterval = .milliseconds(Int(command.heartbeatInterval * 1000))
    realtime.presenceLease = .milliseconds(Int(command.presenceLease * 1000))
    guard command.positionCheckInterval >= 0.1 else {
      throw ValidationError("--position-check-interval must be at least 0.1 seconds")
    }
    realtime.positionCheckInterval = .milliseconds(Int(command.positionCheckInterval * 1000))
    rateLimits = .defaults
    for spec in command.rateLimit {
      do {
        try rateLimits.apply(spec)
      } catch {
        throw ValidationError(error.description)
      }
    }
    metricsAddress =
      command.metricsListen == "off"
      ? nil : try Self.hostAndPort(command.metricsListen, flag: "--metrics-listen")
  }

  /// `HOST:PORT`, the host of an IPv6 address in brackets (`[::1]:50051`).
  private static func hostAndPort(_ text: String, flag: String) throws -> (String, Int) {
    guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
      (0...65535).contains(port)
    else {
      throw ValidationError("\(flag) takes HOST:PORT, not \"\(text)\"")
    }
    var host = String(text[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host, port)
  }
}
