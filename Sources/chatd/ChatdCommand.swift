import ArgumentParser
import Foundation
import Logging

/// `chatd`: the chat and follow server. Every flag also reads `CHATD_<FLAG>` from the
/// environment (upper case, dashes as underscores); the flag wins.
@main
struct ChatdCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chatd",
    abstract: "A chat and follow backend served as gRPC over HTTP/2.",
    subcommands: [TokenCommand.self])

  @Option(help: "Address to listen on, HOST:PORT (port 0 picks a free one). Env: CHATD_LISTEN.")
  var listen: String = env("LISTEN") ?? "127.0.0.1:50051"

  @Option(help: "Largest request message in bytes. Env: CHATD_MAX_RECEIVE_MESSAGE_SIZE.")
  var maxReceiveMessageSize: Int = env("MAX_RECEIVE_MESSAGE_SIZE").flatMap(Int.init) ?? 4 << 20

  @Option(help: "Concurrent streams per connection. Env: CHATD_MAX_CONCURRENT_STREAMS.")
  var maxConcurrentStreams: UInt32 = env("MAX_CONCURRENT_STREAMS").flatMap(UInt32.init) ?? 1000

  @Option(help: "Seconds between keepalive PINGs (0: none). Env: CHATD_KEEPALIVE_INTERVAL.")
  var keepaliveInterval: Int = env("KEEPALIVE_INTERVAL").flatMap(Int.init) ?? 7200

  @Option(
    help:
      "Seconds a connection may stay without streams (0: forever). Env: CHATD_MAX_CONNECTION_IDLE.")
  var maxConnectionIdle: Int = env("MAX_CONNECTION_IDLE").flatMap(Int.init) ?? 1800

  @Option(
    help:
      "Seconds a new connection has to send the HTTP/2 preface (0: forever). Env: CHATD_PREFACE_TIMEOUT."
  )
  var prefaceTimeout: Double = env("PREFACE_TIMEOUT").flatMap(Double.init) ?? 10

  @Option(help: "Seconds before a connection is drained (0: never). Env: CHATD_MAX_CONNECTION_AGE.")
  var maxConnectionAge: Int = env("MAX_CONNECTION_AGE").flatMap(Int.init) ?? 0

  @Option(help: "Seconds calls may run after shutdown begins. Env: CHATD_SHUTDOWN_GRACE.")
  var shutdownGrace: Int = env("SHUTDOWN_GRACE").flatMap(Int.init) ?? 10

  @Option(
    help:
      "PostgreSQL URL (libpq); without one chatd runs its own cluster in the data dir. Env: CHATD_DATABASE_URL."
  )
  var databaseURL: String? = env("DATABASE_URL")

  @Option(
    help:
      "Most pool connections to PostgreSQL (chatd also keeps one LISTEN connection). Env: CHATD_DATABASE_MAX_CONNECTIONS."
  )
  var databaseMaxConnections: Int = env("DATABASE_MAX_CONNECTIONS").flatMap(Int.init) ?? 10

  @Option(
    help:
      "on: each pool connection prepares its statements once and runs them by name; off: every statement unnamed (for PgBouncer in transaction mode before 1.21). Env: CHATD_DATABASE_PREPARED_STATEMENTS."
  )
  var databasePreparedStatements: String = env("DATABASE_PREPARED_STATEMENTS") ?? "on"

  @Option(help: "Where chatd keeps its state (dev secret, embedded cluster). Env: CHATD_DATA_DIR.")
  var dataDir: String = env("DATA_DIR") ?? "./.chatd/"

  @OptionGroup var identity: IdentityOptions

  @OptionGroup var tls: TLSOptions

  @OptionGroup var push: PushOptions

  @Option(
    help:
      "Per-user limit CLASS=RATE/BURST (classes: send, typing, follow, other), repeatable; off turns limits off. Env: CHATD_RATE_LIMIT (comma-separated)."
  )
  var rateLimit: [String] =
    env("RATE_LIMIT").map { $0.split(separator: ",").map(String.init) } ?? []

  @Option(
    help: "Seconds of silence before a stream gets a heartbeat. Env: CHATD_HEARTBEAT_INTERVAL.")
  var heartbeatInterval: Double = env("HEARTBEAT_INTERVAL").flatMap(Double.init) ?? 15

  @Option(
    help:
      "Seconds an instance's presence lease lasts; a killed instance's users turn offline within it. Env: CHATD_PRESENCE_LEASE."
  )
  var presenceLease: Double = env("PRESENCE_LEASE").flatMap(Double.init) ?? 15

  @Option(
    help:
      "Seconds between reads of every followed room's and user's position from the database, which bound how long a lost bus announcement can hold a live stream back. Env: CHATD_POSITION_CHECK_INTERVAL."
  )
  var positionCheckInterval: Double = env("POSITION_CHECK_INTERVAL").flatMap(Double.init) ?? 30

  @Option(
    help:
      "Address of the Prometheus /metrics endpoint (HTTP/1.1), HOST:PORT (port 0 picks a free one), or off. Env: CHATD_METRICS_LISTEN."
  )
  var metricsListen: String = env("METRICS_LISTEN") ?? "127.0.0.1:9090"

  @Option(help: "trace, debug, info, notice, warning, error or critical. Env: CHATD_LOG_LEVEL.")
  var logLevel: String = env("LOG_LEVEL") ?? "info"

  @Flag(
    help:
      "Serve grpc.testing.TestService for the gRPC interop tests. Env: CHATD_ENABLE_INTEROP_TESTING=1."
  )
  var enableInteropTesting: Bool = env("ENABLE_INTEROP_TESTING") == "1"

  @Flag(
    help:
      "Serve bench.v1.Chat, the in-memory benchmark service of scripts/bench, with no authentication: for benchmarks only. Env: CHATD_ENABLE_BENCH_SERVICE=1."
  )
  var enableBenchService: Bool = env("ENABLE_BENCH_SERVICE") == "1"

  func run() async throws {
    guard let level = Logger.Level(rawValue: logLevel) else {
      throw ValidationError("unknown log level \"\(logLevel)\"")
    }
    LoggingSystem.bootstrap { LogfmtLogHandler(label: $0, level: level) }
    let configuration = try ChatdConfiguration(command: self)
    let application = try await buildApplication(configuration)
    try await application.run()
  }
}

func env(_ name: String) -> String? {
  ProcessInfo.processInfo.environment["CHATD_" + name]
}
