/// The waiting sends of `AppendBatcher` by room, and which batches may start: the policy,
/// apart from the database and the tasks.
struct BatchQueue<Item> {
  /// The most items in one batch.
  let maxBatch: Int
  /// The most batches in flight at once.
  let maxInFlight: Int
  private(set) var inFlight = 0
  private var waiting: [String: [Item]] = [:]
  /// The rooms with a batch in flight.
  private var busy: Set<String> = []
  /// The rooms whose items may go in the next batch, in the order they became ready: when
  /// their first item arrived, or when their batch ended with items of theirs waiting.
  private var ready: [String] = []

  init(maxBatch: Int, maxInFlight: Int) {
    self.maxBatch = max(1, maxBatch)
    self.maxInFlight = max(1, maxInFlight)
  }

  /// Queues an item; its room becomes ready unless it is busy or ready already.
  mutating func enqueue(_ item: Item, room: String) {
    if waiting[room, default: []].isEmpty, !busy.contains(room) { ready.append(room) }
    waiting[room, default: []].append(item)
  }

  /// The batches that may start now, each taking a slot; their rooms are busy until `finish`.
  /// Rooms go in arrival order, each with all its waiting items (up to `maxBatch`), and a
  /// batch takes rooms until it holds its share of the waiting items: the share of one of
  /// the batches that can run side by side (free slots, and no more than the ready rooms),
  /// since two half batches on two connections take less time than one whole. A room is never
  /// split for a share: its two halves could not run side by side.
  mutating func takeBatches() -> [[Item]] {
    var batches: [[Item]] = []
    while inFlight < maxInFlight, !ready.isEmpty {
      let sideBySide = min(maxInFlight - inFlight, ready.count)
      let items = ready.reduce(0) { $0 + (waiting[$1]?.count ?? 0) }
      let share = min(maxBatch, (items + sideBySide - 1) / sideBySide)
      var batch: [Item] = []
      var taken = 0
      for room in ready {
        guard batch.count < share else { break }
        let queue = waiting[room] ?? []
        let count = min(queue.count, maxBatch - batch.count)
        batch += queue.prefix(count)
        waiting[room] = count == queue.count ? nil : Array(queue.dropFirst(count))
        busy.insert(room)
        taken += 1
      }
      // Every ready room has an item waiting, so a batch is never empty (an empty one would
      // hold its slot for good: nothing would finish it).
      precondition(!batch.isEmpty, "BatchQueue: a ready room without a waiting item")
      ready.removeFirst(taken)
      inFlight += 1
      batches.append(batch)
    }
    return batches
  }

  /// A batch ended: its slot and its rooms are free again, and the rooms ready, in the order
  /// given, if items of theirs wait. `rooms` may repeat a room.
  mutating func finish(rooms: some Sequence<String>) {
    inFlight -= 1
    for room in rooms where busy.remove(room) != nil {
      if !(waiting[room] ?? []).isEmpty { ready.append(room) }
    }
  }
}
