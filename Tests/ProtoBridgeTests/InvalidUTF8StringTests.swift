import ProtoBridge
import Testing

/// protobuf-c does not check UTF-8 and Swift would repair it into U+FFFD: a string field that
/// is not valid UTF-8 is refused (proto3 requires it), never stored altered.
@Suite struct InvalidUTF8StringTests {
  /// Field 14 (string_value) of Scalars, length-delimited, holding `bytes`.
  static func scalars(holding bytes: [UInt8]) -> [UInt8] {
    [0x72, UInt8(bytes.count)] + bytes
  }

  @Test(
    arguments: [
      [0x61, 0xFF, 0x62],  // a byte that never starts a sequence
      [0xC3],  // a truncated two-byte sequence
      [0xC0, 0xAF],  // an overlong "/"
      [0xED, 0xA0, 0x80],  // a UTF-16 surrogate (U+D800)
      [0xF4, 0x90, 0x80, 0x80],  // past U+10FFFF
    ] as [[UInt8]])
  func invalidUTF8IsRefusedWithItsFieldName(bytes: [UInt8]) {
    let wire = Self.scalars(holding: bytes)
    #expect(
      throws: WireDecodingError(
        messageName: "bridgetest.v1.Scalars", byteCount: wire.count,
        reason: "string field string_value is not valid UTF-8")
    ) { try Bridgetest_V1_Scalars(wireBytes: wire) }
  }

  @Test func validMultibyteStringsDecodeUnchanged() throws {
    let text = "é e\u{301} 👩‍👩‍👧‍👦 \u{202E}rtl\u{202C} zero\u{200B}width 𝄞"
    let message = Bridgetest_V1_Scalars.with { $0.stringValue = text }
    #expect(try Bridgetest_V1_Scalars(wireBytes: message.wireBytes()).stringValue == text)
  }

  @Test func invalidUTF8InBytesFieldsIsKept() throws {
    let message = Bridgetest_V1_Scalars.with { $0.bytesValue = [0xFF, 0xC0, 0xAF] }
    #expect(try Bridgetest_V1_Scalars(wireBytes: message.wireBytes()) == message)
  }
}
