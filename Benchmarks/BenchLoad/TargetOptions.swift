import ArgumentParser
import BenchSupport
import Foundation

/// Which server to load and how to watch it, shared by every workload.
struct TargetOptions: ParsableArguments {
  @Option(help: "The server, HOST:PORT (h2c).")
  var target: String

  @Option(help: "The server's process id: CPU, RSS and descriptors from /proc.")
  var serverPid: Int32?

  @Option(help: "A name for the server, copied into the result line (\"server\").")
  var label = ""

  @Option(help: "HTTP/2 connections the streams are spread over.")
  var connections = 8

  @Option(help: "Seconds after which the run gives up and exits with status 3.")
  var watchdog = 240.0

  func validate() throws {
    _ = try endpoint()
    guard connections > 0 else { throw ValidationError("--connections must be positive") }
  }

  func endpoint() throws -> (host: String, port: Int) {
    guard let colon = target.lastIndex(of: ":"),
      let port = Int(target[target.index(after: colon)...])
    else { throw ValidationError("--target takes HOST:PORT, not \"\(target)\"") }
    return (String(target[..<colon]), port)
  }

  var pids: [Int32] { serverPid.map { [$0] } ?? [] }

  /// A report headed with what every line carries.
  func report(_ workload: String) -> Report {
    var report = Report(workload)
    report.add("server", label)
    report.add("target", target)
    report.add("connections", connections)
    return report
  }

  /// Unique per run: room names carry it, so runs against one server never share a room.
  static let run = String(UUID().uuidString.prefix(8)).lowercased()
}
