import ArgumentParser
import ChatClient
import Foundation
import RPCCore
import TLS

/// The options every command that calls chatd shares.
struct ServerOptions: ParsableArguments {
  @Option(help: "chatd's HOST:PORT. Env: CHATCTL_SERVER.")
  var server: String = ProcessInfo.processInfo.environment["CHATCTL_SERVER"] ?? "127.0.0.1:50051"

  @Option(help: "The access token (a JWT). Env: CHATCTL_TOKEN.")
  var token: String? = ProcessInfo.processInfo.environment["CHATCTL_TOKEN"]

  @Flag(help: "Print JSON, one object per line, instead of text.")
  var json = false

  @Flag(help: "Speak TLS, trusting the system's CAs (or --tls-ca). Env: CHATCTL_TLS=1.")
  var tls = ProcessInfo.processInfo.environment["CHATCTL_TLS"] == "1"

  @Option(help: "Speak TLS, trusting the CAs in this PEM file. Env: CHATCTL_TLS_CA.")
  var tlsCA: String? = ProcessInfo.processInfo.environment["CHATCTL_TLS_CA"]

  @Option(help: "The name the server certificate must carry (default: the server's host).")
  var tlsServerName: String?

  @Option(help: "A client certificate (PEM chain) for servers that ask for one.")
  var tlsCert: String?

  @Option(help: "The client certificate's key (PEM).")
  var tlsKey: String?

  /// TLS settings when any TLS option is given.
  var tlsConfiguration: TLSClientConfiguration? {
    guard tls || tlsCA != nil || tlsCert != nil else { return nil }
    return TLSClientConfiguration(
      trustRoots: tlsCA.map { .file($0) } ?? .system, serverName: tlsServerName,
      certificateChainFile: tlsCert, privateKeyFile: tlsKey)
  }

  /// Runs `body` with a client, turning gRPC errors into a readable line and exit code 1.
  func withClient(_ body: (ChatClient, Output) async throws -> Void) async throws {
    guard let token, !token.isEmpty else {
      throw ValidationError("no token: pass --token or set CHATCTL_TOKEN (see chatctl token)")
    }
    guard let colon = server.lastIndex(of: ":"),
      let port = Int(server[server.index(after: colon)...])
    else { throw ValidationError("--server takes HOST:PORT, not \"\(server)\"") }
    var host = String(server[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    let client: ChatClient
    do {
      client = try ChatClient(
        host: host, port: port, tokens: StaticToken(token), tls: tlsConfiguration)
    } catch {
      throw ValidationError("TLS: \(error)")
    }
    defer { Task { await client.close() } }
    do {
      try await body(client, Output(json: json))
    } catch let error as RPCError {
      FileHandle.standardError.write(Data("chatctl: \(error.code): \(error.message)\n".utf8))
      throw ExitCode(1)
    }
  }
}
