import ProtoBridge
import StandardProtos
import Testing

/// Encodings compared with bytes computed by hand from the protobuf encoding rules.
@Suite struct WireBytesTests {
  @Test func timestamp() throws {
    let timestamp = Google_Protobuf_Timestamp.with {
      $0.seconds = 1
      $0.nanos = 2
    }
    #expect(timestamp.wireBytes() == [0x08, 0x01, 0x10, 0x02])
    #expect(try Google_Protobuf_Timestamp(wireBytes: [0x08, 0x01, 0x10, 0x02]) == timestamp)
  }

  @Test func negativeInt32IsATenByteVarint() {
    let message = Bridgetest_V1_Scalars.with { $0.int32Value = -1 }
    #expect(message.wireBytes() == [0x08] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
  }

  @Test func zigzagIntegers() {
    // sint32 -1 -> 1 (field 5), sint64 -2 -> 3 (field 6).
    let message = Bridgetest_V1_Scalars.with {
      $0.sint32Value = -1
      $0.sint64Value = -2
    }
    #expect(message.wireBytes() == [0x28, 0x01, 0x30, 0x03])
  }

  @Test func stringAndEnum() {
    // field 14 length-delimited "hi"; field 16 varint 2 (key 16<<3 = 128 -> 0x80 0x01).
    let message = Bridgetest_V1_Scalars.with {
      $0.stringValue = "hi"
      $0.color = .darkBlue
    }
    #expect(message.wireBytes() == [0x72, 0x02, 0x68, 0x69, 0x80, 0x01, 0x02])
  }

  @Test func packedRepeated() {
    let message = Bridgetest_V1_Repeated.with { $0.ints = [1, 2, 3] }
    #expect(message.wireBytes() == [0x0A, 0x03, 0x01, 0x02, 0x03])
  }

  @Test func proto3OptionalAtDefaultIsWritten() {
    #expect(Bridgetest_V1_Composite.with { $0.maybeCount = 0 }.wireBytes() == [0x38, 0x00])
  }

  @Test func mapEntry() {
    // field 10 entry { key(1) = "a", value(2) = 1 }.
    let message = Bridgetest_V1_Composite.with { $0.counts = ["a": 1] }
    #expect(message.wireBytes() == [0x52, 0x05, 0x0A, 0x01, 0x61, 0x10, 0x01])
  }

  @Test func repeatedMapKeysLastOneWins() throws {
    let bytes: [UInt8] = [
      0x52, 0x05, 0x0A, 0x01, 0x61, 0x10, 0x01,
      0x52, 0x05, 0x0A, 0x01, 0x61, 0x10, 0x02,
    ]
    #expect(try Bridgetest_V1_Composite(wireBytes: bytes).counts == ["a": 2])
  }

  @Test func unrecognizedEnumValueRoundTrips() throws {
    let bytes: [UInt8] = [0x80, 0x01, 0x07]
    let message = try Bridgetest_V1_Scalars(wireBytes: bytes)
    #expect(message.color == .unrecognized(7))
    #expect(message.color.rawValue == 7)
    #expect(message.wireBytes() == bytes)
  }
}
