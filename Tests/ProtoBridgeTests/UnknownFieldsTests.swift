import ProtoBridge
import Testing

@Suite struct UnknownFieldsTests {
  private let wide = Bridgetest_V1_Wide.with {
    $0.name = "n"
    $0.count = 3
    $0.extraVarint = -9
    $0.extraText = "unknown to Narrow"
    $0.extraFixed32 = 0xCAFE_BABE
    $0.extraFixed64 = 1 << 60
    $0.extraMessage = .with {
      $0.stringValue = "deep"; $0.sint32Value = -3
    }
  }

  @Test func unknownFieldsSurviveDecodeThenEncode() throws {
    let narrow = try Bridgetest_V1_Narrow(wireBytes: wide.wireBytes())
    #expect(narrow.name == "n" && narrow.count == 3)
    #expect(!narrow.unknownFields.isEmpty)
    // Known fields first, then the unknown ones in the order read: the same bytes.
    #expect(narrow.wireBytes() == wide.wireBytes())
    #expect(try Bridgetest_V1_Wide(wireBytes: narrow.wireBytes()) == wide)
  }

  @Test func editingKnownFieldsKeepsUnknownOnes() throws {
    var narrow = try Bridgetest_V1_Narrow(wireBytes: wide.wireBytes())
    narrow.count = 4
    let reread = try Bridgetest_V1_Wide(wireBytes: narrow.wireBytes())
    #expect(reread.count == 4)
    #expect(reread.extraText == wide.extraText)
    #expect(reread.extraMessage == wide.extraMessage)
  }

  @Test func unknownFieldsOfNestedMessagesArePreserved() throws {
    // Repeated.items (field 8) holds Scalars; give one an unknown field 99 (varint 5).
    let bytes: [UInt8] = [0x42, 0x03, 0x98, 0x06, 0x05]
    let message = try Bridgetest_V1_Repeated(wireBytes: bytes)
    #expect(message.items.first?.unknownFields.bytes == [0x98, 0x06, 0x05])
    #expect(message.wireBytes() == bytes)
  }

  @Test func malformedHandBuiltUnknownFieldsAreDroppedNotCrashing() {
    var narrow = Bridgetest_V1_Narrow.with { $0.name = "x" }
    narrow.unknownFields = UnknownFields(bytes: [0x1A, 0x7F, 0x01])  // length 127, 1 byte
    #expect(narrow.wireBytes() == [0x0A, 0x01, 0x78])
  }
}
