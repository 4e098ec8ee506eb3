import Foundation

/// The checks requests go through before they reach the store. Each records a field
/// violation instead of throwing, so one reply lists everything wrong with a request.
struct Validation {
  private(set) var violations: [FieldViolation] = []

  /// Throws INVALID_ARGUMENT with every violation found, if any.
  func check() throws(ValidationError) {
    if !violations.isEmpty { throw ValidationError(violations) }
  }

  mutating func fail(_ field: String, _ description: String) {
    violations.append(FieldViolation(field: field, description: description))
  }

  /// A user id: 1 to 128 characters, no whitespace or control characters.
  mutating func userID(_ value: String, field: String) {
    if value.isEmpty {
      fail(field, "is required")
    } else if !Self.isWellFormedUserID(value) {
      fail(field, "is not a well-formed user id")
    }
  }

  /// A room or message id: a UUID.
  mutating func uuid(_ value: String, field: String) {
    if value.isEmpty {
      fail(field, "is required")
    } else if UUID(uuidString: value) == nil {
      fail(field, "is not a well-formed id")
    }
  }

  /// A page size: 0 means the default (50), at most 200. Returns the size to use.
  mutating func pageSize(_ value: UInt32, field: String = "page_size") -> Int {
    if value > 200 { fail(field, "must be at most 200") }
    return value == 0 ? 50 : Int(min(value, 200))
  }

  /// A page token: opaque, but short and printable. Returns nil for the first page.
  mutating func pageToken(_ value: String, field: String = "page_token") -> String? {
    if value.isEmpty { return nil }
    if value.utf8.count > 200 || !value.unicodeScalars.allSatisfy(\.isASCIIPrintable) {
      fail(field, "is not a page token this server issued")
    }
    return value
  }

  /// Text a person reads: no control characters other than newline and tab, at most `limit`
  /// characters, and, when `required`, something left after trimming.
  mutating func text(_ value: String, field: String, limit: Int, required: Bool) {
    if required && value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
      fail(field, "must not be empty")
    } else if value.count > limit {
      fail(field, "must be at most \(limit) characters")
    } else if value.unicodeScalars.contains(where: Self.isForbiddenControl) {
      fail(field, "must not contain control characters other than newline and tab")
    }
  }

  /// One emoji: a single grapheme cluster of at most 32 bytes that renders as an emoji.
  mutating func emoji(_ value: String, field: String) {
    let scalars = value.unicodeScalars
    let isEmoji =
      scalars.contains { $0.properties.isEmojiPresentation }
      || (scalars.first?.properties.isEmoji == true && scalars.contains("\u{FE0F}"))
    if value.count != 1 || value.utf8.count > 32 || !isEmoji {
      fail(field, "must be a single emoji")
    }
  }

  static func isWellFormedUserID(_ value: String) -> Bool {
    !value.isEmpty && value.count <= 128
      && !value.unicodeScalars.contains {
        $0.properties.generalCategory == .control || $0.properties.isWhitespace
      }
  }

  static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
    guard scalar != "\n", scalar != "\t" else { return false }
    switch scalar.properties.generalCategory {
    case .control, .lineSeparator, .paragraphSeparator: return true
    default: return false
    }
  }
}

extension Unicode.Scalar {
  fileprivate var isASCIIPrintable: Bool { value >= 0x21 && value < 0x7F }
}
