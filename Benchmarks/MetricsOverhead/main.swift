import CoreMetrics
import Dispatch
import Foundation
import NIOCore
import Prometheus
import RPCCore
import RPCMetrics
import Synchronization

// What metrics add to one call with the Prometheus backend chatd runs: what the transport
// does for an observed call (two clock reads, the stream gauge) and the observer's start and
// end (in-flight gauge, latency histogram, counter by code). On one thread, then on two at
// once on the same method, as chatd's two event loops under h2load. Each figure is the best
// of several rounds of thread CPU time.
//
//   swift build -c release --product MetricsOverhead && .build/release/MetricsOverhead

let calls = 1_000_000
let rounds = Int(CommandLine.arguments.dropFirst().first ?? "") ?? 7
let metrics = RPCMetrics(
  namespace: "bench", factory: PrometheusMetricsFactory(registry: PrometheusCollectorRegistry()))
let observer = metrics.callObserver(
  for: MethodDescriptor(service: "grpc.health.v1.Health", method: "Check", kind: .unary))

@Sendable func oneCall() {
  metrics.streamOpened()
  let start = NIODeadline.now()
  observer.callStarted()
  observer.callFinished(code: .ok, duration: .nanoseconds((NIODeadline.now() - start).nanoseconds))
  metrics.streamClosed()
}

/// CPU nanoseconds per call (the thread's own CPU time, so other processes on the machine
/// do not count) with `threads` threads calling at once.
func nanosecondsPerCall(threads: Int) -> Double {
  let group = DispatchGroup()
  let spent = Mutex<UInt64>(0)
  for _ in 0..<threads {
    DispatchQueue.global().async(group: group) {
      let before = threadCPUNanoseconds()
      for _ in 0..<calls { oneCall() }
      let used = threadCPUNanoseconds() - before
      spent.withLock { $0 += used }
    }
  }
  group.wait()
  return Double(spent.withLock { $0 }) / Double(threads * calls)
}

func threadCPUNanoseconds() -> UInt64 {
  var now = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
  return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

for threads in [1, 2] {
  let best = (0..<rounds).map { _ in nanosecondsPerCall(threads: threads) }.min()!
  print("\(threads) thread(s): \(Int(best.rounded())) ns of CPU per call (best of \(rounds))")
}
