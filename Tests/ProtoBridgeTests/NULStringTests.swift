import ProtoBridge
import RPCCore
import Testing

/// protobuf-c strings are C strings: a NUL inside one is refused, never truncated.
@Suite struct NULStringTests {
  /// Field 14 (string_value) of Scalars, length-delimited, holding "a\0b".
  let scalarsWithNUL: [UInt8] = [0x72, 0x03, 0x61, 0x00, 0x62]

  @Test func aStringHoldingNULIsRefusedWithItsFieldName() {
    #expect(
      throws: WireDecodingError(
        messageName: "bridgetest.v1.Scalars", byteCount: 5,
        reason: "string field string_value holds a NUL character")
    ) { try Bridgetest_V1_Scalars(wireBytes: scalarsWithNUL) }
  }

  @Test func nestedAndMapStringsAreChecked() throws {
    var composite = Bridgetest_V1_Composite()
    composite.inner = .with { $0.label = "x\u{0}y" }
    #expect(throws: WireDecodingError.self) {
      try Bridgetest_V1_Composite(wireBytes: Self.encodeIgnoringBridge(composite))
    }
    var map = Bridgetest_V1_Composite()
    map.counts = ["k\u{0}": 1]
    #expect(throws: WireDecodingError.self) {
      try Bridgetest_V1_Composite(wireBytes: Self.encodeIgnoringBridge(map))
    }
  }

  @Test func zeroBytesOutsideStringsDecode() throws {
    let message = Bridgetest_V1_Scalars.with {
      $0.bytesValue = [0, 0, 1, 0]
      $0.doubleValue = 1.0
      $0.stringValue = "clean"
    }
    #expect(try Bridgetest_V1_Scalars(wireBytes: message.wireBytes()) == message)
  }

  @Test func theRPCLayerAnswersInvalidArgument() {
    #expect(
      (WireDecodingError(messageName: "m", byteCount: 1, reason: "r") as any RPCErrorConvertible)
        .rpcError.code == .invalidArgument)
  }

  /// Encodes with the NUL intact: the bridge's own encoder cannot, so splice raw bytes.
  static func encodeIgnoringBridge(_ message: Bridgetest_V1_Composite) -> [UInt8] {
    if let inner = message.inner {
      let label = Array(inner.label.utf8)
      let innerBytes: [UInt8] = [0x0A, UInt8(label.count)] + label
      return [0x0A, UInt8(innerBytes.count)] + innerBytes
    }
    let (key, value) = message.counts.first!
    let keyBytes = Array(key.utf8)
    let entry: [UInt8] = [0x0A, UInt8(keyBytes.count)] + keyBytes + [0x10, UInt8(value)]
    return [0x52, UInt8(entry.count)] + entry
  }
}
