import Foundation

/// Polls `done` every few milliseconds until it holds or `timeout` passes; returns whether it
/// held. Polling keeps the subscribers' hot path free of any wake-up bookkeeping; the
/// coordinating task costs a hundred or so wake-ups a second.
package func waitUntil(
  timeout: Duration, every interval: Duration = .milliseconds(5), report: Duration? = nil,
  progress: () -> String = { "" }, _ done: () -> Bool
) async -> Bool {
  let clock = ContinuousClock()
  let deadline = clock.now + timeout
  var nextReport = report.map { clock.now + $0 }
  while !done() {
    if clock.now >= deadline { return false }
    if let due = nextReport, let report, clock.now >= due {
      printProgress(progress())
      nextReport = due + report
    }
    try? await Task.sleep(for: interval)
  }
  return true
}

package func printProgress(_ line: String) {
  FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Ends the process when a run takes longer than `seconds`: a call that never returns (see
/// docs/benchmarks.md, fan-out problems) must not hang the driver script.
package func startWatchdog(seconds: Double) {
  Task.detached {
    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    printProgress("no result after \(seconds) s, giving up")
    exit(3)
  }
}

/// Bounds what is left of a run once its result line is printed. Closing thousands of streams
/// and connections is a courtesy to the server, and a peer that never completes it (grpc-swift-2
/// with 5,000 connections, one each per subscriber) held the driver until the watchdog: 150 s
/// per run, spent after the result was already out. The process ends with `exitCode` then.
package func limitTeardown(seconds: Double = 10, exitCode: Int32) {
  fflush(nil)
  Task.detached {
    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    printProgress("teardown took over \(seconds) s: leaving the rest to exit")
    exit(exitCode)
  }
}

/// A call that gave no answer within the time the load generator allows it.
package struct ClientTimeout: Error, CustomStringConvertible {
  package let timeout: Duration

  package var description: String { "no answer within \(timeout) (client-side timeout)" }
}

/// Runs `operation` and cancels it after `timeout`, throwing `ClientTimeout`: for waits that
/// are not one call with a timeout of its own (a stream until it is synced), and so that the
/// report tells the load generator's own limit apart from a server's DEADLINE_EXCEEDED.
package func withTimeout<Result: Sendable>(
  _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> Result
) async throws -> Result {
  try await withThrowingTaskGroup(of: Result.self) { group in
    group.addTask { try await operation() }
    group.addTask {
      try await Task.sleep(for: timeout)
      throw ClientTimeout(timeout: timeout)
    }
    defer { group.cancelAll() }
    return try await group.next()!
  }
}
