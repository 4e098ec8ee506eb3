import BenchSupport
import ChatProtos

/// Sends the measured messages into the room, open loop: message i leaves at start + i / rate
/// whether or not earlier sends have been answered, so a slow answer does not delay (and hide)
/// the messages after it. Rate 0 sends back to back, one at a time.
struct Sender: Sendable {
  let chat: Chat_V1_ChatService.Client
  let roomID: String
  let token: String
  let tag: MessageTag

  struct Result {
    /// SendMessage latency (the durable append and its answer), per message.
    let acks: Latencies.Summary
    let failures: Int
    let firstError: String?
  }

  func send(clientMsgID: String) async throws {
    var request = Chat_V1_SendMessageRequest()
    request.roomId = roomID
    request.clientMsgId = clientMsgID
    request.body = MessageTag.body(sentAt: MonotonicClock.nanos())
    _ = try await chat.sendMessage(request, options: Fixture.options(token: token))
  }

  func run(messages: Int, rate: Double) async -> Result {
    let acks = Latencies()
    let failures = Progress()
    let one: @Sendable (Int) async -> Void = { index in
      let start = MonotonicClock.nanos()
      do {
        try await send(clientMsgID: tag.measuredID(index))
        acks.add([MonotonicClock.nanos() - start])
      } catch {
        failures.fail(error)
      }
    }
    if rate <= 0 {
      for index in 0..<messages { await one(index) }
    } else {
      let start = ContinuousClock.now
      await withDiscardingTaskGroup { group in
        for index in 0..<messages {
          let due = start + .nanoseconds(Int64(Double(index) / rate * 1e9))
          try? await Task.sleep(until: due, clock: .continuous)
          group.addTask { await one(index) }
        }
      }
    }
    return Result(
      acks: acks.summary(), failures: failures.failed.load(ordering: .relaxed),
      firstError: failures.error)
  }
}
