import CoreMetrics
import RPCCore
import Synchronization

/// A method's call counters, one per status code, each made the first time the method ends
/// with that code: a scrape shows only the codes a method has answered, and after its first
/// use a counter costs one uncontended lock and an atomic add, never a factory lookup. (A
/// lock-free table of atomic slots measured no cheaper: Benchmarks/MetricsOverhead.)
final class CallCounters: Sendable {
  private let label: String
  private let method: String
  private let factory: any MetricsFactory
  /// Indexed by the code's wire value, 0...16.
  private let counters = Mutex<[Counter?]>(Array(repeating: nil, count: 17))

  init(label: String, method: String, factory: any MetricsFactory) {
    self.label = label
    self.method = method
    self.factory = factory
  }

  func counter(for code: Status.Code) -> Counter {
    // Handlers only produce the standard codes; anything else counts as UNKNOWN, as gRPC
    // clients would read it.
    let code = (0...16).contains(code.rawValue) ? code : .unknown
    if let counter = counters.withLock({ $0[code.rawValue] }) { return counter }
    // Made outside the lock: the factory takes locks of its own. Two first calls racing
    // make two handles onto the same series, and one is kept.
    let made = Counter(
      label: label, dimensions: [("method", method), ("code", "\(code)")], factory: factory)
    return counters.withLock { counters in
      if let existing = counters[code.rawValue] { return existing }
      counters[code.rawValue] = made
      return made
    }
  }
}
