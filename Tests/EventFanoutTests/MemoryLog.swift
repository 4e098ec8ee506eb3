import EventFanout
import RPCCore
import Synchronization

/// An in-memory feed source for the hub's own tests: a log per key whose appends the test
/// announces (or, to test recovery, does not). The real source is the database, tested in
/// the interop suite.
final class MemoryLog: FeedSource, Sendable {
  private let logs = Mutex<[String: [UInt64]]>([:])
  let reads = Atomic<Int>(0)
  /// How long each read takes (a database round trip, for tests of concurrent replays).
  let latency: Duration
  /// How many of the next `lastSeqs` calls fail (the database still away).
  let lastSeqsFailures = Atomic<Int>(0)
  /// How many of the next `items` calls never return (a read lost on the way).
  let hangingReads = Atomic<Int>(0)

  struct Unavailable: Error {}

  init(latency: Duration = .zero) {
    self.latency = latency
  }

  /// Appends the next event of `key` and returns its seq.
  @discardableResult
  func append(_ key: String) -> UInt64 {
    logs.withLock { logs in
      logs[key, default: []].append(UInt64(logs[key, default: []].count + 1))
      return UInt64(logs[key]!.count)
    }
  }

  func count(_ key: String) -> UInt64 {
    logs.withLock { UInt64($0[key]?.count ?? 0) }
  }

  func items(of key: String, after seq: UInt64, limit: Int) async throws -> [FeedItem] {
    reads.add(1, ordering: .relaxed)
    if hangingReads.load(ordering: .relaxed) > 0 {
      hangingReads.subtract(1, ordering: .relaxed)
      try await Task.sleep(for: .seconds(86_400))
    }
    if latency > .zero { try await Task.sleep(for: latency) } else { await Task.yield() }
    let log = logs.withLock { $0[key] ?? [] }
    return log.drop { $0 <= seq }.prefix(limit).map(Self.item)
  }

  func lastSeqs(of keys: [String]) async throws -> [String: UInt64] {
    if lastSeqsFailures.load(ordering: .relaxed) > 0 {
      lastSeqsFailures.subtract(1, ordering: .relaxed)
      throw Unavailable()
    }
    return logs.withLock { logs in
      Dictionary(uniqueKeysWithValues: keys.map { ($0, UInt64(logs[$0]?.count ?? 0)) })
    }
  }

  static func item(_ seq: UInt64) -> FeedItem {
    FeedItem(seq: seq, message: EncodedMessage(bytes: Array("event \(seq)".utf8)))
  }
}

/// A note the tests attach to an event and read back.
final class Label: FeedNote {
  let text: String
  init(_ text: String) { self.text = text }
}

extension FeedSubscription {
  /// Reads outputs until `done` says stop; returns the seqs of the events and the outputs.
  func collect(until done: ([FeedOutput]) -> Bool) async throws -> [FeedOutput] {
    var all: [FeedOutput] = []
    while !done(all) {
      let outputs = try await next()
      if outputs.isEmpty { break }
      all += outputs
    }
    return all
  }
}

extension Array {
  func seqs() -> [UInt64] where Element == FeedOutput {
    compactMap {
      if case .item(let item) = $0, item.seq != 0 { return item.seq }
      return nil
    }
  }

  func syncedAt() -> [UInt64] where Element == FeedOutput {
    compactMap {
      if case .synced(let seq) = $0 { return seq }
      return nil
    }
  }
}
