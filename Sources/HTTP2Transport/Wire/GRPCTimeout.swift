/// The `grpc-timeout` header: at most 8 ASCII digits and a unit (H, M, S, m, u, n).
enum GRPCTimeout {
  /// Nil when the value is malformed.
  static func parse(_ text: some StringProtocol) -> Duration? {
    let utf8 = Array(text.utf8)
    guard utf8.count >= 2, utf8.count <= 9, let unit = utf8.last else { return nil }
    var amount: Int64 = 0
    for digit in utf8.dropLast() {
      guard digit >= UInt8(ascii: "0"), digit <= UInt8(ascii: "9") else { return nil }
      amount = amount * 10 + Int64(digit - UInt8(ascii: "0"))
    }
    switch unit {
    case UInt8(ascii: "H"): return .seconds(amount * 3600)
    case UInt8(ascii: "M"): return .seconds(amount * 60)
    case UInt8(ascii: "S"): return .seconds(amount)
    case UInt8(ascii: "m"): return .milliseconds(amount)
    case UInt8(ascii: "u"): return .microseconds(amount)
    case UInt8(ascii: "n"): return .nanoseconds(amount)
    default: return nil
    }
  }

  /// The shortest exact-enough encoding: the finest unit whose amount fits in 8 digits.
  static func format(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    guard seconds >= 0 else { return "0n" }
    // Below 100,000 s a duration fits in nanoseconds, and milliseconds still fit in 8 digits.
    // Longer ones (a grpc-timeout reaches 11,000 years, a Duration much further) would
    // overflow as nanoseconds: they are counted in whole seconds, rounded up.
    if seconds < 100_000 {
      let nanoseconds = seconds * 1_000_000_000 + attoseconds / 1_000_000_000
      let units: [(Int64, Character)] = [(1, "n"), (1_000, "u"), (1_000_000, "m")]
      for (scale, unit) in units {
        // Round up so a deadline is never shortened.
        let amount = (nanoseconds + scale - 1) / scale
        if amount <= 99_999_999 { return "\(amount)\(unit)" }
      }
    }
    let wholeSeconds = attoseconds > 0 && seconds < .max ? seconds + 1 : seconds
    for (scale, unit) in [(Int64(1), "S"), (60, "M"), (3_600, "H")] {
      let amount = wholeSeconds / scale + (wholeSeconds % scale == 0 ? 0 : 1)
      if amount <= 99_999_999 { return "\(amount)\(unit)" }
    }
    return "99999999H"
  }
}
