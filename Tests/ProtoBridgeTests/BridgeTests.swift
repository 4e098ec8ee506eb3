import Testing

@testable import ProtoBridge

@Suite struct BridgeTests {
  @Test(arguments: [
    ("", [UInt8]()), ("AA==", [0]), ("AAE=", [0, 1]), ("/+8A", [0xFF, 0xEF, 0]),
    ("aGVs\nbG8=", Array("hello".utf8)),
  ])
  func base64(_ text: String, _ bytes: [UInt8]) {
    #expect(Bridge.base64(text) == bytes)
  }

  @Test func boxCopiesOnWrite() {
    var first = Box([1, 2])
    let second = first
    first.value.append(3)
    #expect(first.value == [1, 2, 3])
    #expect(second.value == [1, 2])
    #expect(first != second)
  }
}
