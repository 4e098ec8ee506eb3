import ProtoBridge
import StandardProtos
import Testing

@Suite struct GarbageTests {
  @Test(
    arguments: [
      [0xFF], [0x0A, 0x05, 0x01], [0x08],
      [0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01],
      [0x0F], [0x00, 0x00], [0x72, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],
    ] as [[UInt8]])
  func malformedBytesThrow(_ bytes: [UInt8]) {
    #expect(throws: WireDecodingError.self) { try Bridgetest_V1_Scalars(wireBytes: bytes) }
  }

  @Test func theErrorNamesTheMessage() {
    #expect(throws: WireDecodingError(messageName: "bridgetest.v1.Scalars", byteCount: 1)) {
      try Bridgetest_V1_Scalars(wireBytes: [0xFF])
    }
  }

  @Test func truncatedMessagesThrow() {
    let bytes = Bridgetest_V1_Scalars.with { $0.stringValue = "truncate me" }.wireBytes()
    for length in 1..<bytes.count {
      #expect(throws: WireDecodingError.self) {
        try Bridgetest_V1_Scalars(wireBytes: Array(bytes.prefix(length)))
      }
    }
  }

  @Test func randomBytesNeverCrash() {
    var generator = SplitMix64(seed: 0x5EED)
    var decoded = 0
    for _ in 0..<2_000 {
      let count = Int(generator.next() % 40)
      let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
      if let message = try? Bridgetest_V1_Composite(wireBytes: bytes) {
        decoded += 1
        _ = message.wireBytes()
      }
      _ = try? Bridgetest_V1_Node(wireBytes: bytes)
      _ = try? Google_Protobuf_Timestamp(wireBytes: bytes)
    }
    #expect(decoded < 2_000)
  }
}

/// A tiny deterministic generator so that failures reproduce.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
