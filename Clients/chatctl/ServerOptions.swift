import ArgumentParser
import ChatClient
import Foundation
import RPCCore

/// The options every command that calls chatd shares.
struct ServerOptions: ParsableArguments {
  @Option(help: "chatd's HOST:PORT. Env: CHATCTL_SERVER.")
  var server: String = ProcessInfo.processInfo.environment["CHATCTL_SERVER"] ?? "127.0.0.1:50051"

  @Option(help: "The access token (a JWT). Env: CHATCTL_TOKEN.")
  var token: String? = ProcessInfo.processInfo.environment["CHATCTL_TOKEN"]

  @Flag(help: "Print JSON, one object per line, instead of text.")
  var json = false

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
    let client = ChatClient(host: host, port: port, tokens: StaticToken(token))
    defer { Task { await client.close() } }
    do {
      try await body(client, Output(json: json))
    } catch let error as RPCError {
      FileHandle.standardError.write(Data("chatctl: \(error.code): \(error.message)\n".utf8))
      throw ExitCode(1)
    }
  }
}
