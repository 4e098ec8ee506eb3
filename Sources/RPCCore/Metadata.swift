/// Request headers, response headers or trailers of an RPC: an ordered list of key-value pairs.
///
/// Keys are lower case ASCII. Keys ending in `-bin` carry binary values, which travel
/// base64-encoded on the wire; every other key carries printable ASCII text.
public struct Metadata: Sendable, Hashable {
  public enum Value: Sendable, Hashable {
    case string(String)
    case binary([UInt8])
  }

  public struct Entry: Sendable, Hashable {
    public var key: String
    public var value: Value
  }

  private var entries: [Entry]

  public init() { entries = [] }

  public var isEmpty: Bool { entries.isEmpty }
  public var count: Int { entries.count }

  /// Appends a text value; the key is lower-cased.
  public mutating func addString(_ value: String, forKey key: String) {
    entries.append(Entry(key: key.lowercased(), value: .string(value)))
  }

  /// Appends a binary value; the key must end in `-bin`.
  public mutating func addBinary(_ value: [UInt8], forKey key: String) {
    precondition(key.hasSuffix("-bin"), "binary metadata keys end in -bin")
    entries.append(Entry(key: key.lowercased(), value: .binary(value)))
  }

  public mutating func add(_ value: Value, forKey key: String) {
    entries.append(Entry(key: key.lowercased(), value: value))
  }

  public mutating func append(contentsOf other: Metadata) {
    entries.append(contentsOf: other.entries)
  }

  /// Removes every value of a key.
  public mutating func removeAll(forKey key: String) {
    let key = key.lowercased()
    entries.removeAll { $0.key == key }
  }

  /// The first text value of a key, if any.
  public func firstString(forKey key: String) -> String? {
    let key = key.lowercased()
    for entry in entries where entry.key == key {
      if case .string(let value) = entry.value { return value }
    }
    return nil
  }

  /// The first binary value of a key, if any.
  public func firstBinary(forKey key: String) -> [UInt8]? {
    let key = key.lowercased()
    for entry in entries where entry.key == key {
      if case .binary(let value) = entry.value { return value }
    }
    return nil
  }

  public func values(forKey key: String) -> [Value] {
    let key = key.lowercased()
    return entries.lazy.filter { $0.key == key }.map(\.value)
  }
}

extension Metadata: RandomAccessCollection {
  public var startIndex: Int { entries.startIndex }
  public var endIndex: Int { entries.endIndex }
  public subscript(position: Int) -> Entry { entries[position] }
}

extension Metadata: ExpressibleByDictionaryLiteral {
  public init(dictionaryLiteral elements: (String, Value)...) {
    entries = elements.map { Entry(key: $0.0.lowercased(), value: $0.1) }
  }
}

extension Metadata.Value: ExpressibleByStringLiteral {
  public init(stringLiteral value: String) { self = .string(value) }
}
