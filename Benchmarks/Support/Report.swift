import Foundation

/// One result line, its fields in a fixed order: `key=value` pairs (Benchmarks/fanout.sh
/// tabulates those) or one JSON object (scripts/bench reads those).
package struct Report {
  private var fields: [(key: String, value: Value)] = []

  private enum Value {
    case text(String)
    case number(String)
  }

  package init(_ workload: String) { add("workload", workload) }

  package mutating func add(_ key: String, _ value: String) { fields.append((key, .text(value))) }
  package mutating func add(_ key: String, _ value: Int) {
    fields.append((key, .number(String(value))))
  }
  package mutating func add(_ key: String, _ value: Double, digits: Int = 2) {
    let text = value.isFinite ? String(format: "%.\(digits)f", value) : "0"
    fields.append((key, .number(text)))
  }

  /// `key=value key=value ...` on stdout.
  package func print() {
    let pairs = fields.map { field -> String in
      switch field.value {
      case .text(let text), .number(let text): "\(field.key)=\(text)"
      }
    }
    Swift.print(pairs.joined(separator: " "))
  }

  /// `{"key": value, ...}` on stdout, numbers as JSON numbers.
  package func printJSON() {
    let members = fields.map { field -> String in
      switch field.value {
      case .text(let text): "\(Self.quoted(field.key)):\(Self.quoted(text))"
      case .number(let text): "\(Self.quoted(field.key)):\(text)"
      }
    }
    Swift.print("{" + members.joined(separator: ",") + "}")
  }

  private static func quoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}

extension Report {
  /// Server memory and descriptors, summed over the instances.
  package mutating func addServerState(pids: [Int32]) {
    guard !pids.isEmpty else { return }
    let rss = pids.map { ProcessStats.rssBytes($0) ?? 0 }
    add("server_rss_mib", Double(rss.reduce(0, +)) / 1_048_576, digits: 1)
    add("server_fds", pids.map { ProcessStats.fileDescriptors($0) ?? 0 }.reduce(0, +))
  }
}

/// A run that could not measure what it was asked to (streams that never synced, say).
package struct BenchmarkFailure: Error, CustomStringConvertible {
  package let description: String

  package init(_ description: String) { self.description = description }
}
