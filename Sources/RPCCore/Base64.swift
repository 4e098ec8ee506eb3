/// Standard base64 (RFC 4648 §4), as `-bin` metadata and embedded descriptors use it.
///
/// Decoding accepts padded and unpadded input, since gRPC peers send either.
public enum Base64 {
  private static let alphabet = Array(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

  private static let reverse: [UInt8] = {
    var table = [UInt8](repeating: 0xFF, count: 256)
    for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
    return table
  }()

  public static func encode(_ bytes: some Collection<UInt8>, padded: Bool = true) -> String {
    var out: [UInt8] = []
    out.reserveCapacity((bytes.count + 2) / 3 * 4)
    var iterator = bytes.makeIterator()
    while let b0 = iterator.next() {
      let b1 = iterator.next()
      let b2 = iterator.next()
      out.append(alphabet[Int(b0 >> 2)])
      out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
      if let b1 {
        out.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
      } else if padded {
        out.append(UInt8(ascii: "="))
      }
      if let b2 {
        out.append(alphabet[Int(b2 & 0x3F)])
      } else if padded {
        out.append(UInt8(ascii: "="))
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Nil when the text is not base64.
  public static func decode(_ text: some StringProtocol) -> [UInt8]? {
    var utf8 = Array(text.utf8)
    while utf8.last == UInt8(ascii: "=") { utf8.removeLast() }
    guard utf8.count % 4 != 1 else { return nil }
    var out: [UInt8] = []
    out.reserveCapacity(utf8.count * 3 / 4)
    var accumulator: UInt32 = 0
    var bits = 0
    for byte in utf8 {
      let value = reverse[Int(byte)]
      guard value != 0xFF else { return nil }
      accumulator = accumulator << 6 | UInt32(value)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
      }
    }
    return out
  }
}
