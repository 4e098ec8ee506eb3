import Foundation

/// CLOCK_MONOTONIC in nanoseconds. Sender and subscribers run in this one process, so a
/// send time written into a message body compares directly with the receive time.
package enum MonotonicClock {
  package static func nanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
  }

  package static func seconds(_ nanos: UInt64) -> Double { Double(nanos) / 1e9 }
}
