import EventFanout
import RPCCore
import Synchronization

/// Every room's seq and its last events, in memory: the hub's feed source. The hub reads each
/// new event from here once (after `announce`) and hands the same encoded bytes to every
/// subscriber; a subscriber whose queue overflowed reads from here where it left off.
final class BenchRooms: FeedSource {
  private let historyPerRoom: Int
  private let shards: [Shard]

  init(historyPerRoom: Int, shards: Int = 16) {
    self.historyPerRoom = max(1, historyPerRoom)
    self.shards = (0..<max(1, shards)).map { _ in Shard() }
  }

  /// Assigns the room's next seq and stores the event `encode` makes for it, in one step, so
  /// the room's events are stored in seq order.
  func append(to roomID: String, _ encode: (UInt64) -> EncodedMessage) -> UInt64 {
    let capacity = historyPerRoom
    return shard(roomID).rooms.withLock { rooms in
      rooms[roomID, default: RoomLog()].append(capacity: capacity, encode)
    }
  }

  /// The room's last seq (0 for a room nobody has sent to).
  func lastSeq(of roomID: String) -> UInt64 {
    shard(roomID).rooms.withLock { $0[roomID]?.lastSeq ?? 0 }
  }

  func items(of roomID: String, after seq: UInt64, limit: Int) async throws
    -> [FeedItem]
  {
    let page = shard(roomID).rooms.withLock { rooms -> [FeedItem]? in
      guard let room = rooms[roomID] else { return [] }
      return room.items(after: seq, limit: limit)
    }
    guard let page else {
      throw RPCError(
        code: .resourceExhausted,
        message:
          "the subscriber fell more than \(historyPerRoom) events behind the room: resubscribe")
    }
    return page
  }

  func lastSeqs(of roomIDs: [String]) async throws -> [String: UInt64] {
    var seqs: [String: UInt64] = [:]
    for roomID in roomIDs {
      if let seq = shard(roomID).rooms.withLock({ $0[roomID]?.lastSeq }) { seqs[roomID] = seq }
    }
    return seqs
  }

  private final class Shard: Sendable {
    let rooms = Mutex<[String: RoomLog]>([:])
  }

  private func shard(_ roomID: String) -> Shard {
    shards[Int(UInt(bitPattern: roomID.hashValue) % UInt(shards.count))]
  }
}

/// One room: its last seq and a ring of its last events (seq s at index (s - 1) % capacity).
struct RoomLog {
  private(set) var lastSeq: UInt64 = 0
  private var ring: [FeedItem] = []

  mutating func append(capacity: Int, _ encode: (UInt64) -> EncodedMessage) -> UInt64 {
    lastSeq += 1
    let item = FeedItem(seq: lastSeq, message: encode(lastSeq))
    if ring.count < capacity {
      ring.append(item)
    } else {
      ring[Int((lastSeq - 1) % UInt64(capacity))] = item
    }
    return lastSeq
  }

  /// The events after `seq`, at most `limit`; nil when the ring no longer holds the first.
  func items(after seq: UInt64, limit: Int) -> [FeedItem]? {
    guard seq < lastSeq, limit > 0 else { return [] }
    let oldest = lastSeq - UInt64(ring.count) + 1
    guard seq + 1 >= oldest else { return nil }
    let last = min(lastSeq, seq + UInt64(limit))
    // Until the ring is full it holds seqs 1...lastSeq at their own index; then it wraps.
    let size = UInt64(ring.count)
    return (seq + 1...last).map { ring[Int(($0 - 1) % size)] }
  }
}
