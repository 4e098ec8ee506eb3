import BenchSupport
import ChatProtos
import HTTP2Transport

/// The client connections to every chatd instance. Each instance gets its own connections;
/// the sender gets one more to the first instance, so its calls never queue behind fan-out
/// traffic on a subscriber connection.
struct Servers: Sendable {
  /// Per instance, its subscriber connections.
  let subscriberClients: [[GRPCClient]]
  let senderClient: GRPCClient
  let pids: [Int32]

  /// Opens every connection with one call of its own before anything else runs on it, and
  /// replaces a connection whose first call fails. Calls started together on a connection
  /// that is still being set up sometimes fail as a group ("the request headers could not be
  /// sent", "the connection is closed"): a client-side problem reported with the fan-out
  /// figures in docs/benchmarks.md, kept out of the measurements this way.
  static func connect(options: ServerOptions, token: String) async throws -> Servers {
    let endpoints = try options.endpoints()
    var subscriberClients: [[GRPCClient]] = []
    for endpoint in endpoints {
      var clients: [GRPCClient] = []
      for _ in 0..<options.connections {
        clients.append(try await warmClient(host: endpoint.host, port: endpoint.port, token: token))
      }
      subscriberClients.append(clients)
    }
    let sender = try await warmClient(
      host: endpoints[0].host, port: endpoints[0].port, token: token)
    return Servers(subscriberClients: subscriberClients, senderClient: sender, pids: options.pids)
  }

  private static func warmClient(host: String, port: Int, token: String) async throws
    -> GRPCClient
  {
    var attempt = 1
    while true {
      let client = GRPCClient(host: host, port: port)
      do {
        // A first call that never returns is the same problem in another guise.
        _ = try await withTimeout(.seconds(10)) {
          try await Social_V1_UserService.Client(transport: client).getMe(
            Social_V1_GetMeRequest(), options: Fixture.options(token: token))
        }
        return client
      } catch {
        await client.close()
        guard attempt < 5 else { throw error }
        printProgress("connection setup failed (\(error)), retrying with a new connection")
        attempt += 1
      }
    }
  }

  var instances: Int { subscriberClients.count }

  var sender: Chat_V1_ChatService.Client { Chat_V1_ChatService.Client(transport: senderClient) }

  func instance(ofStream index: Int) -> Int { index % instances }

  /// Stream `index` goes to instance `index % instances`, then round robin over that
  /// instance's connections, so every instance and connection carries the same share.
  func chat(forStream index: Int) -> Chat_V1_ChatService.Client {
    let clients = subscriberClients[instance(ofStream: index)]
    return Chat_V1_ChatService.Client(transport: clients[(index / instances) % clients.count])
  }

  func close() async {
    for clients in subscriberClients {
      for client in clients { await client.close() }
    }
    await senderClient.close()
  }
}
