import Foundation

/// When a failed push is tried again.
enum RetryPolicy {
  /// Exponential backoff with jitter: attempt 1 waits between half and all of `first`, each
  /// later attempt twice as long, never more than `max`. The jitter spreads retries of a burst
  /// that failed together (OneSignal down) instead of sending them back at one instant.
  static func delay(afterAttempt attempt: Int, first: Duration, max: Duration) -> Duration {
    let exponent = Double(Swift.min(Swift.max(attempt - 1, 0), 30))
    let full = Swift.min(first.seconds * pow(2, exponent), max.seconds)
    return .milliseconds(Int64(full * Double.random(in: 0.5...1.0) * 1000))
  }

  /// `Retry-After` in seconds or as an HTTP date, at most an hour; nil when absent or unreadable.
  static func retryAfter(_ value: String?, now: Date = Date()) -> Duration? {
    guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
      return nil
    }
    var seconds: Double
    if let number = Double(value), number.isFinite {
      seconds = number
    } else if let date = httpDate(value) {
      seconds = date.timeIntervalSince(now)
    } else {
      return nil
    }
    seconds = Swift.min(Swift.max(seconds, 0), 3600)
    return .milliseconds(Int64(seconds * 1000))
  }

  private static func httpDate(_ text: String) -> Date? {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "GMT")
    formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
    return formatter.date(from: text)
  }
}

extension Duration {
  var seconds: Double {
    Double(components.seconds) + Double(components.attoseconds) / 1e18
  }
}
