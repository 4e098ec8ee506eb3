import CoreMetrics
import MetricsTestKit
import RPCCore
import Testing

@testable import RPCMetrics

@Suite struct RPCMetricsTests {
  let metrics = TestMetrics()
  let getMe = MethodDescriptor(service: "social.v1.UserService", method: "GetMe", kind: .unary)

  @Test func countsCallsByMethodAndCode() throws {
    let observer = RPCMetrics(namespace: "t", factory: metrics).callObserver(for: getMe)
    for code in [Status.Code.ok, .ok, .unauthenticated] {
      observer.callStarted()
      observer.callFinished(code: code, duration: .milliseconds(3))
    }
    let method = ("method", "social.v1.UserService/GetMe")
    #expect(try metrics.expectCounter("t_rpcs_total", [method, ("code", "OK")]).totalValue == 2)
    #expect(
      try metrics.expectCounter("t_rpcs_total", [method, ("code", "UNAUTHENTICATED")]).totalValue
        == 1)
    // Only the codes the method answered exist.
    #expect(metrics.counters(label: "t_rpcs_total").count == 2)
    let timer = try metrics.expectTimer("t_rpc_duration_seconds", [method])
    #expect(timer.values == [3_000_000, 3_000_000, 3_000_000])
    #expect(try metrics.expectMeter("t_rpcs_in_flight", [method]).lastValue == 0)
  }

  @Test func inFlightFollowsStartsAndEnds() throws {
    let observer = RPCMetrics(namespace: "t", factory: metrics).callObserver(for: getMe)
    observer.callStarted()
    observer.callStarted()
    let inFlight = try metrics.expectMeter(
      "t_rpcs_in_flight", [("method", "social.v1.UserService/GetMe")])
    #expect(inFlight.lastValue == 2)
    observer.callFinished(code: .cancelled, duration: .zero)
    #expect(inFlight.lastValue == 1)
  }

  @Test func codesOutsideTheStandardOnesCountAsUnknown() throws {
    let observer = RPCMetrics(namespace: "t", factory: metrics).callObserver(for: getMe)
    observer.callStarted()
    observer.callFinished(code: Status.Code(rawValue: 99), duration: .zero)
    let counter = try metrics.expectCounter(
      "t_rpcs_total", [("method", "social.v1.UserService/GetMe"), ("code", "UNKNOWN")])
    #expect(counter.totalValue == 1)
  }

  @Test func connectionsAndStreams() throws {
    let observer = RPCMetrics(namespace: "t", factory: metrics)
    observer.connectionOpened()
    observer.streamOpened()
    observer.streamOpened()
    observer.streamClosed()
    #expect(try metrics.expectMeter("t_http2_connections").lastValue == 1)
    #expect(try metrics.expectMeter("t_http2_streams").lastValue == 1)
    observer.connectionClosed()
    #expect(try metrics.expectMeter("t_http2_connections").lastValue == 0)
  }

  @Test func firstUsesRacingShareOneSeries() async throws {
    let observer = RPCMetrics(namespace: "t", factory: metrics).callObserver(for: getMe)
    await withTaskGroup(of: Void.self) { group in
      for _ in 0..<100 {
        group.addTask {
          observer.callStarted()
          observer.callFinished(code: .notFound, duration: .zero)
        }
      }
    }
    #expect(
      metrics.counterTotal(
        label: "t_rpcs_total",
        dimensions: [("method", "social.v1.UserService/GetMe"), ("code", "NOT_FOUND")]) == 100)
  }
}
