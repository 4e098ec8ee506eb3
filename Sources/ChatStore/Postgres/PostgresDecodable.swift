public import Foundation

/// A Swift value read from PostgreSQL's text output format.
public protocol PostgresDecodable: Sendable {
  init?(postgresText bytes: [UInt8])
}

extension String: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    self = String(decoding: bytes, as: UTF8.self)
  }
}

extension Int64: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    self.init(String(decoding: bytes, as: UTF8.self))
  }
}

extension Int: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    self.init(String(decoding: bytes, as: UTF8.self))
  }
}

extension UInt64: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    self.init(String(decoding: bytes, as: UTF8.self))
  }
}

extension Double: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    self.init(String(decoding: bytes, as: UTF8.self))
  }
}

extension Bool: PostgresDecodable {
  public init?(postgresText bytes: [UInt8]) {
    switch bytes {
    case [UInt8(ascii: "t")]: self = true
    case [UInt8(ascii: "f")]: self = false
    default: return nil
    }
  }
}

extension Date: PostgresDecodable {
  /// Parses timestamptz output with DateStyle ISO and TimeZone UTC (set on every connection):
  /// `2025-01-02 03:04:05.123456+00`.
  public init?(postgresText bytes: [UInt8]) {
    let digits = bytes.map { Int($0) - 48 }
    func number(_ from: Int, _ count: Int) -> Int? {
      guard from + count <= digits.count else { return nil }
      var value = 0
      for digit in digits[from..<from + count] {
        guard (0...9).contains(digit) else { return nil }
        value = value * 10 + digit
      }
      return value
    }
    guard bytes.count >= 22, let year = number(0, 4), let month = number(5, 2),
      let day = number(8, 2), let hour = number(11, 2), let minute = number(14, 2),
      let second = number(17, 2)
    else { return nil }
    var index = 19
    var fraction = 0.0
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      var scale = 0.1
      while index < bytes.count, (0...9).contains(digits[index]) {
        fraction += Double(digits[index]) * scale
        scale /= 10
        index += 1
      }
    }
    guard index < bytes.count,
      bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"),
      let offsetHours = number(index + 1, 2)
    else { return nil }
    let sign = bytes[index] == UInt8(ascii: "+") ? 1 : -1
    var components = DateComponents()
    components.year = year
    components.month = month
    components.day = day
    components.hour = hour
    components.minute = minute
    components.second = second
    guard let base = Date.utcCalendar.date(from: components) else { return nil }
    let offset = sign * offsetHours * 3600
    self = base.addingTimeInterval(fraction - Double(offset))
  }

  static let utcCalendar: Calendar = {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = TimeZone(identifier: "UTC")!
    return calendar
  }()
}

extension Date: PostgresEncodable {
  /// Seconds since 1970 as a timestamptz via `to_timestamp` semantics: an ISO text PostgreSQL
  /// parses in UTC.
  public var postgresBind: PostgresBind {
    let c = Date.utcCalendar.dateComponents(
      [.year, .month, .day, .hour, .minute, .second], from: self)
    let micros = Int((timeIntervalSince1970 - floor(timeIntervalSince1970)) * 1_000_000)
    func pad(_ value: Int, _ width: Int) -> String {
      let text = String(value)
      return String(repeating: "0", count: max(0, width - text.count)) + text
    }
    let text =
      "\(pad(c.year!, 4))-\(pad(c.month!, 2))-\(pad(c.day!, 2)) "
      + "\(pad(c.hour!, 2)):\(pad(c.minute!, 2)):\(pad(c.second!, 2)).\(pad(micros, 6))+00"
    return .text(Array(text.utf8))
  }
}
