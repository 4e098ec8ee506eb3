import Testing

@testable import ChatStore

/// SendMessage's batching policy (`BatchQueue`, behind `AppendBatcher`), without the database:
/// items are strings named after their room.
@Suite struct BatchQueueTests {
  private func queue(_ items: [(room: String, count: Int)], maxBatch: Int = 64, slots: Int = 2)
    -> BatchQueue<String>
  {
    var queue = BatchQueue<String>(maxBatch: maxBatch, maxInFlight: slots)
    for (room, count) in items {
      for index in 0..<count { queue.enqueue("\(room)\(index)", room: room) }
    }
    return queue
  }

  @Test func aBurstAcrossRoomsIsSharedEvenlyAmongTheFreeSlots() {
    var queue = queue([("a", 1), ("b", 1), ("c", 1), ("d", 1), ("e", 1)])
    #expect(queue.takeBatches() == [["a0", "b0", "c0"], ["d0", "e0"]])
    #expect(queue.inFlight == 2)
    queue.enqueue("f0", room: "f")
    #expect(queue.takeBatches().isEmpty, "no free slot")
    queue.finish(rooms: ["d", "e"])
    #expect(queue.takeBatches() == [["f0"]])
  }

  @Test func oneRoomGoesInOneBatchWhateverTheFreeSlots() {
    var queue = queue([("a", 5)])
    #expect(queue.takeBatches() == [["a0", "a1", "a2", "a3", "a4"]])
    queue.enqueue("a5", room: "a")
    #expect(queue.takeBatches().isEmpty, "the room has a batch in flight")
    #expect(queue.inFlight == 1)
    queue.finish(rooms: ["a"])
    #expect(queue.takeBatches() == [["a5"]])
  }

  @Test func aRoomGoesWholeWhateverItsShare() {
    var queue = queue([("a", 10), ("b", 1)])
    // Eleven items for two slots make shares of six, but room a's ten go together: halves of
    // one room could not run side by side anyway.
    #expect(queue.takeBatches() == [(0..<10).map { "a\($0)" }, ["b0"]])
    queue.enqueue("a10", room: "a")
    queue.finish(rooms: ["b"])
    #expect(queue.takeBatches().isEmpty, "room a still has a batch in flight")
    queue.finish(rooms: ["a"])
    #expect(queue.takeBatches() == [["a10"]])
  }

  @Test func roomsFreedTogetherGetReadyInTheBatchsOrder() {
    var queue = BatchQueue<String>(maxBatch: 64, maxInFlight: 1)
    queue.enqueue("a0", room: "a")
    queue.enqueue("b0", room: "b")
    #expect(queue.takeBatches() == [["a0", "b0"]])
    queue.enqueue("b1", room: "b")
    queue.enqueue("a1", room: "a")
    queue.finish(rooms: ["a", "b", "a"])
    #expect(queue.takeBatches() == [["a1", "b1"]])
    #expect(queue.inFlight == 1)
  }

  @Test func roomsGoInTheOrderTheirFirstItemArrived() {
    var queue = BatchQueue<String>(maxBatch: 64, maxInFlight: 1)
    queue.enqueue("c0", room: "c")
    queue.enqueue("a0", room: "a")
    queue.enqueue("c1", room: "c")
    queue.enqueue("b0", room: "b")
    #expect(queue.takeBatches() == [["c0", "c1", "a0", "b0"]])
  }

  @Test func noBatchExceedsTheLargestSize() {
    var queue = queue([("a", 3), ("b", 3), ("c", 3)], maxBatch: 4, slots: 1)
    #expect(queue.takeBatches() == [["a0", "a1", "a2", "b0"]])
    queue.finish(rooms: ["a", "b"])
    // Room c waited longest, then the rest of room b.
    #expect(queue.takeBatches() == [["c0", "c1", "c2", "b1"]])
  }
}
