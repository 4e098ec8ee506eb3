import Metrics
import Synchronization

/// `chatd_active_subscriptions{kind}`: the open streams of each kind on this process. A
/// stream counts from its start to the end of its handler, so the gauge returns to its
/// previous value as soon as a stream is cancelled or breaks.
final class StreamGauges: Sendable {
  enum Kind: String, CaseIterable {
    case room, user, firehose
  }

  private let counts = Mutex<[Kind: Int]>([:])
  private let gauges: [Kind: Gauge]

  init() {
    gauges = Dictionary(
      uniqueKeysWithValues: Kind.allCases.map {
        ($0, Gauge(label: "chatd_active_subscriptions", dimensions: [("kind", $0.rawValue)]))
      })
  }

  /// Counts a stream of `kind` while `body` runs.
  func tracking<T>(_ kind: Kind, _ body: () async throws -> T) async rethrows -> T {
    change(kind, by: 1)
    defer { change(kind, by: -1) }
    return try await body()
  }

  private func change(_ kind: Kind, by delta: Int) {
    let value = counts.withLock { counts in
      counts[kind, default: 0] += delta
      return counts[kind]!
    }
    gauges[kind]?.record(value)
  }
}
