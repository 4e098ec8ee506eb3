public import Foundation

/// A token in JWS compact form (RFC 7515): `header.payload.signature`, each part base64url
/// without padding. The signature covers the first two parts' text as sent.
public struct CompactJWS: Sendable {
  /// The header's JSON.
  public let header: Data
  /// The payload's JSON: the claims.
  public let payload: Data
  /// `header.payload`, the bytes the signature covers.
  public let signingInput: [UInt8]
  public let signature: [UInt8]

  /// The parts of `token`; nil unless it is three base64url parts.
  public init?(_ token: String) {
    let parts = token.utf8.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
    guard parts.count == 3, let header = Self.base64URLDecode(parts[0]),
      let payload = Self.base64URLDecode(parts[1]), let signature = Self.base64URLDecode(parts[2])
    else { return nil }
    self.header = Data(header)
    self.payload = Data(payload)
    self.signingInput = Array(token.utf8.prefix(parts[0].count + 1 + parts[1].count))
    self.signature = signature
  }

  /// A compact token of `header` and `payload` (JSON), signed by `sign` over its signing input.
  public static func encode(
    header: Data, payload: Data, sign: ([UInt8]) throws -> [UInt8]
  ) rethrows -> String {
    let signingInput = "\(base64URL(header)).\(base64URL(payload))"
    return "\(signingInput).\(base64URL(try sign(Array(signingInput.utf8))))"
  }

  public static func base64URL(_ bytes: some Sequence<UInt8>) -> String {
    var text = Data(bytes).base64EncodedString()
    text = text.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    while text.last == "=" { text.removeLast() }
    return text
  }

  /// The bytes of base64url text; nil for any other character.
  public static func base64URLDecode(_ text: String) -> [UInt8]? {
    base64URLDecode(Substring(text).utf8)
  }

  /// (Trailing padding is tolerated: some issuers write it, and the signature covers the
  /// text as sent either way.)
  static func base64URLDecode(_ text: Substring.UTF8View) -> [UInt8]? {
    var text = text
    for _ in 0..<2 where text.last == UInt8(ascii: "=") { text = text.dropLast() }
    guard text.count % 4 != 1 else { return nil }
    var base64 = [UInt8]()
    base64.reserveCapacity(text.count + 3)
    for byte in text {
      switch byte {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
        UInt8(ascii: "0")...UInt8(ascii: "9"):
        base64.append(byte)
      case UInt8(ascii: "-"): base64.append(UInt8(ascii: "+"))
      case UInt8(ascii: "_"): base64.append(UInt8(ascii: "/"))
      default: return nil
      }
    }
    base64 += repeatElement(UInt8(ascii: "="), count: (4 - base64.count % 4) % 4)
    return Data(base64Encoded: Data(base64)).map(Array.init)
  }
}
