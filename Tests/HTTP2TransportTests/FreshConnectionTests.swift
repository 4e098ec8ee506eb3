import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle
import Testing

/// Many calls at once on brand-new connections, with request metadata: every one completes.
@Suite struct FreshConnectionTests {
  @Test(arguments: 0..<3)
  func burstsOnNewConnectionsAllComplete(round: Int) async throws {
    let server = GRPCServer(
      configuration: GRPCServerConfiguration(host: "127.0.0.1", port: 0),
      router: RPCRouter(services: [EchoService(log: EchoLog())]), logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let (_, port) = try await server.listeningAddress
      var metadata = Metadata()
      metadata.addString("Bearer " + String(repeating: "x", count: 400), forKey: "authorization")
      let options = CallOptions(timeout: .seconds(20), metadata: metadata)
      let clients = (0..<8).map { _ in GRPCClient(host: "127.0.0.1", port: port) }
      try await withThrowingTaskGroup(of: Void.self) { calls in
        for client in clients {
          for index in 0..<32 {
            calls.addTask {
              let reply: Raw = try await client.unary(
                Echo.get, request: Raw("call \(index)"), options: options)
              #expect(reply.text == "call \(index)")
            }
          }
        }
        try await calls.waitForAll()
      }
      for client in clients { await client.close() }
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }

  /// A burst larger than the server's stream limit on a connection that has not yet heard
  /// the server's SETTINGS: the calls beyond the limit wait for a free stream instead of
  /// being refused.
  @Test func aBurstPastTheServersStreamLimitWaitsForFreeStreams() async throws {
    var configuration = GRPCServerConfiguration(host: "127.0.0.1", port: 0)
    configuration.maxConcurrentStreams = 100
    let server = GRPCServer(
      configuration: configuration,
      router: RPCRouter(services: [EchoService(log: EchoLog())]), logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let (_, port) = try await server.listeningAddress
      let client = GRPCClient(host: "127.0.0.1", port: port)
      let options = CallOptions(timeout: .seconds(20))
      try await withThrowingTaskGroup(of: Void.self) { calls in
        for index in 0..<400 {
          calls.addTask {
            let reply: Raw = try await client.unary(
              Echo.get, request: Raw("call \(index)"), options: options)
            #expect(reply.text == "call \(index)")
          }
        }
        try await calls.waitForAll()
      }
      await client.close()
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }
}
