/// A feed's last events in a fixed-size ring; sequenced events only, without gaps.
struct RecentItems {
  private var slots: [FeedItem?]
  private var start = 0
  private(set) var count = 0

  init(capacity: Int) {
    slots = Array(repeating: nil, count: max(1, capacity))
  }

  mutating func append(_ item: FeedItem) {
    let capacity = slots.count
    if count < capacity {
      slots[(start + count) % capacity] = item
      count += 1
    } else {
      slots[start] = item
      start = (start + 1) % capacity
    }
  }

  /// The events with seq > `seq`; nil when the ring no longer holds seq + 1.
  func after(_ seq: UInt64) -> [FeedItem]? {
    guard count > 0, let first = slots[start]?.seq else { return nil }
    guard seq + 1 >= first else { return nil }
    let skip = Int(min(UInt64(count), seq + 1 - first))
    return (skip..<count).map { slots[(start + $0) % slots.count]! }
  }
}
