import Synchronization

/// Every latency sample of a run, in nanoseconds, kept whole and sorted at the end: exact
/// percentiles with no extra dependency (a few million samples at most, 8 bytes each).
/// Subscribers add their samples in batches, so the lock is not taken per delivery.
final class Latencies: Sendable {
  private let samples = Mutex<[UInt64]>([])

  func add(_ batch: [UInt64]) {
    guard !batch.isEmpty else { return }
    samples.withLock { $0.append(contentsOf: batch) }
  }

  func summary() -> Summary {
    Summary(sorted: samples.withLock { $0 }.sorted())
  }

  /// The samples of several collections together (every instance's subscribers, say).
  static func summary(of collections: some Sequence<Latencies>) -> Summary {
    Summary(sorted: collections.flatMap { $0.samples.withLock { $0 } }.sorted())
  }

  struct Summary {
    let sorted: [UInt64]

    var count: Int { sorted.count }

    /// The nearest-rank percentile in milliseconds (0 with no samples).
    func milliseconds(at percentile: Double) -> Double {
      guard !sorted.isEmpty else { return 0 }
      let rank = Int((percentile / 100 * Double(sorted.count)).rounded(.up))
      return Double(sorted[min(max(rank, 1), sorted.count) - 1]) / 1e6
    }

    var maxMilliseconds: Double { Double(sorted.last ?? 0) / 1e6 }
  }
}
