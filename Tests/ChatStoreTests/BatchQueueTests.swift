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

  @Test func aBusyRoomsItemsWaitWhileOtherRoomsGo() {
    var queue = queue([("a", 6), ("b", 2)])
    // Eight items for two slots: four each. The rest of room a waits for its next batch,
    // in arrival order, while room b takes the other slot.
    #expect(queue.takeBatches() == [["a0", "a1", "a2", "a3"], ["b0", "b1"]])
    queue.finish(rooms: ["b"])
    #expect(queue.takeBatches().isEmpty, "room a still has a batch in flight")
    queue.finish(rooms: ["a"])
    #expect(queue.takeBatches() == [["a4", "a5"]])
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
