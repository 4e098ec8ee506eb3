import BenchProtos
import BenchSupport
import HTTP2Transport
import RPCCore

/// The client connections of a run: `count` for the streams, one more for the sender, so its
/// calls never queue behind fan-out traffic.
struct Connections: Sendable {
  let streamClients: [GRPCClient]
  let senderClient: GRPCClient

  /// Opens every connection with one Send of its own before any stream runs on it (a Send to
  /// a room nobody follows), and replaces a connection whose first call fails: calls started
  /// together on a connection still being set up have failed as a group before
  /// (docs/benchmarks.md, fan-out problems), which would count against the server here.
  /// At most `parallel` connections are set up at once.
  static func open(_ options: TargetOptions, count: Int, parallel: Int = 64) async throws
    -> Connections
  {
    let (host, port) = try options.endpoint()
    let sender = try await warmClient(host: host, port: port)
    var clients: [GRPCClient] = []
    clients.reserveCapacity(count)
    var next = 0
    while next < count {
      let batch = min(parallel, count - next)
      try await withThrowingTaskGroup(of: GRPCClient.self) { group in
        for _ in 0..<batch {
          group.addTask { try await warmClient(host: host, port: port) }
        }
        for try await client in group { clients.append(client) }
      }
      next += batch
    }
    return Connections(streamClients: clients, senderClient: sender)
  }

  private static func warmClient(host: String, port: Int) async throws -> GRPCClient {
    var attempt = 1
    while true {
      let client = GRPCClient(host: host, port: port)
      do {
        var request = Bench_V1_SendRequest()
        request.roomId = "setup-\(TargetOptions.run)"
        request.body = "connection setup"
        _ = try await Bench_V1_Chat.Client(transport: client).send(
          request, options: CallOptions(timeout: .seconds(20)))
        return client
      } catch {
        await client.close()
        guard attempt < 5 else { throw error }
        printProgress("connection setup failed (\(error)), retrying with a new connection")
        attempt += 1
      }
    }
  }

  var sender: Bench_V1_Chat.Client { Bench_V1_Chat.Client(transport: senderClient) }

  /// Stream `index` goes to connection `index % count`.
  func client(forStream stream: Int) -> GRPCClient {
    streamClients[index(ofStream: stream)]
  }

  func index(ofStream stream: Int) -> Int { stream % streamClients.count }

  func close() async {
    for client in streamClients { await client.close() }
    await senderClient.close()
  }
}
