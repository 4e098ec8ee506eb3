import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The rooms: per room, the last seq and the queues of the current subscribers.
final class Rooms: Sendable {
  typealias Subscriber = AsyncStream<Bench_V1_Event>.Continuation

  private struct Room {
    var lastSeq: UInt64 = 0
    var subscribers: [UInt64: Subscriber] = [:]

    /// Assigns the next seq and queues the event to every subscriber.
    mutating func publish(roomID: String, body: String) -> Bench_V1_Event {
      lastSeq += 1
      var event = Bench_V1_Event()
      event.seq = lastSeq
      event.roomID = roomID
      event.body = body
      event.sentAtMs = wallClockMilliseconds()
      for subscriber in subscribers.values {
        subscriber.yield(event)
      }
      return event
    }
  }

  private struct State {
    var rooms: [String: Room] = [:]
    var nextSubscriberID: UInt64 = 0
  }

  private let state = Mutex(State())

  /// Publishes under the lock, so that every subscriber sees the room's events in seq order.
  func publish(roomID: String, body: String) -> Bench_V1_SendReply {
    let event = state.withLock { state in
      state.rooms[roomID, default: Room()].publish(roomID: roomID, body: body)
    }
    var reply = Bench_V1_SendReply()
    reply.seq = event.seq
    reply.sentAtMs = event.sentAtMs
    return reply
  }

  /// Adds the queue to the room until it terminates (finished or its stream dropped).
  func subscribe(roomID: String, continuation: Subscriber) {
    let id = state.withLock { state in
      state.nextSubscriberID += 1
      let id = state.nextSubscriberID
      state.rooms[roomID, default: Room()].subscribers[id] = continuation
      return id
    }
    continuation.onTermination = { [self] _ in
      _ = state.withLock { $0.rooms[roomID]?.subscribers.removeValue(forKey: id) }
    }
  }
}

private func wallClockMilliseconds() -> Int64 {
  var now = timespec()
  clock_gettime(CLOCK_REALTIME, &now)
  return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
}
