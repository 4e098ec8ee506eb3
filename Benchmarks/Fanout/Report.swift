import Foundation

/// One result line: `key=value` pairs in a fixed order, for Benchmarks/fanout.sh to tabulate.
struct Report {
  private var fields: [(String, String)] = []

  init(_ workload: String) { add("workload", workload) }

  mutating func add(_ key: String, _ value: String) { fields.append((key, value)) }
  mutating func add(_ key: String, _ value: Int) { add(key, String(value)) }
  mutating func add(_ key: String, _ value: Double, digits: Int = 2) {
    add(key, String(format: "%.\(digits)f", value))
  }

  func print() {
    Swift.print(fields.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
  }
}

extension Report {
  /// Server memory and descriptors, summed over the instances.
  mutating func addServerState(pids: [Int32]) {
    guard !pids.isEmpty else { return }
    let rss = pids.map { ProcessStats.rssBytes($0) ?? 0 }
    add("server_rss_mib", Double(rss.reduce(0, +)) / 1_048_576, digits: 1)
    add("server_fds", pids.map { ProcessStats.fileDescriptors($0) ?? 0 }.reduce(0, +))
  }
}

/// A run that could not measure what it was asked to (streams that never synced, say).
struct BenchmarkFailure: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) { self.description = description }
}
