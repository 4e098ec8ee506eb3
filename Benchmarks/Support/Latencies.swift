import Histogram
import Synchronization

/// Latency samples of a run in nanoseconds, recorded into one HdrHistogram (3 significant
/// digits, 1 µs to 10 minutes): fixed memory however many samples, percentiles within 0.1%.
/// Streams add their samples in batches, so the lock is not taken per delivery.
package final class Latencies: Sendable {
  private let histogram = Mutex(
    Histogram<UInt64>(
      lowestDiscernibleValue: 1_000, highestTrackableValue: 600_000_000_000,
      numberOfSignificantValueDigits: .three))

  package init() {}

  package func add(_ batch: [UInt64]) {
    guard !batch.isEmpty else { return }
    histogram.withLock { histogram in
      for sample in batch {
        // Past the top a sample is clamped rather than lost: it still counts as a delivery.
        _ = histogram.record(min(max(sample, 1), histogram.highestTrackableValue))
      }
    }
  }

  package func summary() -> Summary {
    Summary(histogram: histogram.withLock { $0 })
  }

  /// The samples of several collections together (every instance's subscribers, say).
  package static func summary(of collections: some Sequence<Latencies>) -> Summary {
    var merged: Histogram<UInt64>?
    for collection in collections {
      let histogram = collection.histogram.withLock { $0 }
      if merged == nil { merged = histogram } else { merged!.add(histogram) }
    }
    return Summary(histogram: merged ?? Latencies().histogram.withLock { $0 })
  }

  package struct Summary: Sendable {
    let histogram: Histogram<UInt64>

    package var count: Int { Int(histogram.totalCount) }

    /// The percentile in milliseconds (0 with no samples).
    package func milliseconds(at percentile: Double) -> Double {
      guard histogram.totalCount > 0 else { return 0 }
      return Double(histogram.valueAtPercentile(percentile)) / 1e6
    }

    package var maxMilliseconds: Double {
      histogram.totalCount > 0 ? Double(histogram.max) / 1e6 : 0
    }
  }
}
