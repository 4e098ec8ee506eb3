import ArgumentParser
import BenchSupport
import Foundation

/// Where the servers are and how to reach them, shared by every workload.
struct ServerOptions: ParsableArguments {
  @Option(
    name: .customLong("target"),
    help: """
      chatd HOST:PORT; repeat for several instances on one database (subscribers are split \
      between them, the sender uses the first).
      """)
  var targets: [String]

  @Option(
    name: .customLong("pid"),
    help: "chatd process id, in --target order: CPU, RSS and descriptors from /proc.")
  var pids: [Int32] = []

  @Option(help: "The postmaster's pid: database CPU (it and its children) is reported apart.")
  var postgresPid: Int32?

  @Option(help: "HTTP/2 connections per chatd instance; streams are spread over them.")
  var connections = 8

  @Option(help: "Seconds after which the run gives up and exits with status 3.")
  var watchdog = 150.0

  @Option(help: "Member users to create (a group holds at most 500 members with its owner).")
  var users = 250

  @Flag(help: "Print the result as one JSON object (scripts/bench reads those), not key=value.")
  var json = false

  func validate() throws {
    guard !targets.isEmpty else { throw ValidationError("give at least one --target") }
    guard pids.isEmpty || pids.count == targets.count else {
      throw ValidationError("give one --pid per --target, or none")
    }
    guard connections > 0 else { throw ValidationError("--connections must be positive") }
    guard (1...499).contains(users) else { throw ValidationError("--users takes 1 to 499") }
    guard jwtSecret != nil else {
      throw ValidationError("set FANOUT_JWT_SECRET to the secret chatd verifies tokens with")
    }
  }

  /// The HS256 secret chatd was started with, from the environment: ps shows flags.
  var jwtSecret: String? { ProcessInfo.processInfo.environment["FANOUT_JWT_SECRET"] }

  /// The result line on stdout, in the format asked for.
  func emit(_ report: Report) {
    if json { report.printJSON() } else { report.print() }
  }

  func endpoints() throws -> [(host: String, port: Int)] {
    try targets.map { target in
      guard let colon = target.lastIndex(of: ":"),
        let port = Int(target[target.index(after: colon)...])
      else { throw ValidationError("--target takes HOST:PORT, not \"\(target)\"") }
      return (String(target[..<colon]), port)
    }
  }
}
