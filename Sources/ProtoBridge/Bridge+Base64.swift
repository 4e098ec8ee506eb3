extension Bridge {
  /// Decodes standard base64 (RFC 4648) as generated code embeds descriptor bytes; padding
  /// and whitespace are skipped so literals may be wrapped over lines. No Foundation.
  package static func base64(_ text: String) -> [UInt8] {
    var output: [UInt8] = []
    output.reserveCapacity(text.utf8.count / 4 * 3)
    var accumulator: UInt32 = 0
    var bits: UInt32 = 0
    for char in text.utf8 {
      let value: UInt32
      switch char {
      case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(char - UInt8(ascii: "A"))
      case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(char - UInt8(ascii: "a")) + 26
      case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(char - UInt8(ascii: "0")) + 52
      case UInt8(ascii: "+"): value = 62
      case UInt8(ascii: "/"): value = 63
      default: continue
      }
      accumulator = (accumulator << 6 | value) & 0xFFFF
      bits += 6
      if bits >= 8 {
        bits -= 8
        output.append(UInt8(truncatingIfNeeded: accumulator >> bits))
      }
    }
    return output
  }
}
