public import Foundation

extension Google_Protobuf_Timestamp {
  /// A timestamp `seconds` (and `nanos`) after the Unix epoch.
  public init(seconds: Int64, nanos: Int32 = 0) {
    self.init()
    self.seconds = seconds
    self.nanos = nanos
  }

  /// The timestamp of `date`, nanoseconds rounded down so that `nanos` stays in 0..<1e9.
  public init(date: Date) {
    let interval = date.timeIntervalSince1970
    let seconds = interval.rounded(.down)
    var nanos = ((interval - seconds) * 1_000_000_000).rounded(.down)
    nanos = min(max(nanos, 0), 999_999_999)
    self.init(seconds: Int64(seconds), nanos: Int32(nanos))
  }

  /// The timestamp as a Foundation `Date` (sub-microsecond precision may be lost).
  public var date: Date {
    Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1_000_000_000)
  }
}
