import RPCCore
import Testing

@Suite struct Base64Tests {
  @Test(arguments: [
    ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
    ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
  ])
  func rfc4648Vectors(plain: String, encoded: String) {
    #expect(Base64.encode(Array(plain.utf8)) == encoded)
    #expect(Base64.decode(encoded) == Array(plain.utf8))
  }

  @Test func decodesUnpaddedInput() {
    #expect(Base64.decode("Zm9vYg") == Array("foob".utf8))
  }

  @Test func encodesUnpaddedOnRequest() {
    #expect(Base64.encode([0xFF], padded: false) == "/w")
  }

  @Test func allByteValuesRoundTrip() {
    let bytes = (0...255).map(UInt8.init)
    #expect(Base64.decode(Base64.encode(bytes)) == bytes)
  }

  @Test(arguments: ["Zm9v!", "Z", "Zm9vY", "Zm 9v"])
  func rejectsInvalidText(_ text: String) {
    #expect(Base64.decode(text) == nil)
  }
}
