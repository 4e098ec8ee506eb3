public import CoreMetrics
public import RPCCore

/// A server's metrics on swift-metrics, named in Prometheus' style under `namespace`:
///
/// | metric | kind | labels |
/// |---|---|---|
/// | `<namespace>_rpcs_total` | counter | `method`, `code` |
/// | `<namespace>_rpc_duration_seconds` | timer (a histogram in Prometheus) | `method` |
/// | `<namespace>_rpcs_in_flight` | meter (a gauge) | `method` |
/// | `<namespace>_http2_connections` | meter | |
/// | `<namespace>_http2_streams` | meter | |
///
/// `method` is the full method name, `chat.v1.ChatService/SendMessage`; `code` the canonical
/// status name, `OK` or `UNAUTHENTICATED`. Every metric object is made before calls need it:
/// per method when routes are built, per status code the first time a method answers it.
public struct RPCMetrics: ServerObserver {
  private let namespace: String
  private let factory: any MetricsFactory
  private let connections: Meter
  private let streams: Meter

  public init(namespace: String, factory: any MetricsFactory = MetricsSystem.factory) {
    self.namespace = namespace
    self.factory = factory
    connections = Meter(label: "\(namespace)_http2_connections", factory: factory)
    streams = Meter(label: "\(namespace)_http2_streams", factory: factory)
  }

  /// Latency buckets for RPC timers: from 100 µs (a call that never leaves its event loop)
  /// to 10 s. Prometheus' defaults start at 5 ms, where most chatd calls are already done.
  public static let durationBuckets: [Duration] = [
    .microseconds(100), .microseconds(250), .microseconds(500),
    .milliseconds(1), .milliseconds(2.5), .milliseconds(5),
    .milliseconds(10), .milliseconds(25), .milliseconds(50),
    .milliseconds(100), .milliseconds(250), .milliseconds(500),
    .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
  ]

  public func callObserver(for method: MethodDescriptor) -> any CallObserver {
    MethodMetrics(
      method: "\(method.service)/\(method.method)", namespace: namespace, factory: factory)
  }

  public func connectionOpened() { connections.increment() }
  public func connectionClosed() { connections.decrement() }
  public func streamOpened() { streams.increment() }
  public func streamClosed() { streams.decrement() }
}

/// One method's metric objects, made when routes are built.
final class MethodMetrics: CallObserver {
  private let inFlight: Meter
  private let duration: Timer
  private let calls: CallCounters

  init(method: String, namespace: String, factory: any MetricsFactory) {
    let dimensions = [("method", method)]
    inFlight = Meter(label: "\(namespace)_rpcs_in_flight", dimensions: dimensions, factory: factory)
    duration = Timer(
      label: "\(namespace)_rpc_duration_seconds", dimensions: dimensions, factory: factory)
    calls = CallCounters(
      label: "\(namespace)_rpcs_total", method: method, factory: factory)
  }

  func callStarted() {
    inFlight.increment()
  }

  func callFinished(code: Status.Code, duration elapsed: Duration) {
    inFlight.decrement()
    let (seconds, attoseconds) = elapsed.components
    duration.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    calls.counter(for: code).increment()
  }
}
