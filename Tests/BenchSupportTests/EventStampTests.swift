import BenchProtos
import BenchSupport
import Testing

@Suite struct EventStampTests {
  private func event(seq: UInt64, body: String) -> [UInt8] {
    var event = Bench_V1_Event()
    event.seq = seq
    event.roomId = "room-1"
    event.body = body
    event.sentAtMs = 1_733_000_000_000
    return event.wireBytes()
  }

  @Test func readsTheSeqAndTheSendTimeOfAMeasuredMessage() {
    let stamp = EventStamp(event(seq: 300, body: "m 18446744073709551615"))
    #expect(stamp == EventStamp(seq: 300, sentAt: .max))
  }

  @Test func aWarmUpHasNoSendTime() {
    #expect(EventStamp(event(seq: 7, body: "w")) == EventStamp(seq: 7, sentAt: nil))
  }

  @Test(arguments: ["m ", "m 12x", "m 18446744073709551616", "x 12", "m12"])
  func aBodyThatIsNotAMeasuredMessageHasNoSendTime(body: String) {
    #expect(EventStamp(event(seq: 1, body: body))?.sentAt == nil)
  }

  @Test func fieldsItDoesNotKnowAreSkipped() {
    // Field 9 as a fixed64, field 10 as a fixed32, then seq.
    let bytes: [UInt8] = [0x49] + Array(repeating: 1, count: 8) + [0x55, 1, 2, 3, 4, 0x08, 0x05]
    #expect(EventStamp(bytes) == EventStamp(seq: 5, sentAt: nil))
  }

  @Test(arguments: [
    [0x08] as [UInt8],  // a key without its varint
    [0x08, 0x80],  // a varint cut short
    [0x1a, 0x05, 0x6d],  // a body longer than the bytes left
    [0x0b],  // wire type 3 (groups) is not used by bench.v1
    [0x49, 1, 2],  // a fixed64 cut short
  ])
  func malformedBytesAreRejected(bytes: [UInt8]) {
    #expect(EventStamp(bytes) == nil)
  }
}
