public import RPCCore
public import StandardProtos
import Synchronization

/// grpc.health.v1.Health: the serving status of the server ("") and of each service.
///
/// Statuses change through `setStatus`; every Watch stream sees each change.
public final class HealthService: Grpc_Health_V1_Health.ServiceProtocol, Sendable {
  public typealias ServingStatus = Grpc_Health_V1_HealthCheckResponse.ServingStatus

  private struct State {
    var statuses: [String: ServingStatus] = [:]
    var watchers: [Int: (service: String, continuation: AsyncStream<ServingStatus>.Continuation)] =
      [:]
    var nextWatcher = 0
  }

  private let state = Mutex(State())

  /// - Parameter services: names reported SERVING from the start, with "" for the server.
  public init(serving services: [String]) {
    state.withLock { state in
      state.statuses[""] = .serving
      for service in services { state.statuses[service] = .serving }
    }
  }

  public func setStatus(_ status: ServingStatus, for service: String) {
    let watchers = state.withLock { state in
      state.statuses[service] = status
      return state.watchers.values.filter { $0.service == service }.map(\.continuation)
    }
    for watcher in watchers { watcher.yield(status) }
  }

  /// Marks everything NOT_SERVING, as a server does when it starts draining.
  public func enterShutdown() {
    let services = state.withLock { Array($0.statuses.keys) }
    for service in services { setStatus(.notServing, for: service) }
  }

  public func check(request: Grpc_Health_V1_HealthCheckRequest, context: ServerContext)
    async throws -> Grpc_Health_V1_HealthCheckResponse
  {
    guard let status = state.withLock({ $0.statuses[request.service] }) else {
      throw RPCError(code: .notFound, message: "unknown service \(request.service)")
    }
    return .with { $0.status = status }
  }

  public func watch(
    request: Grpc_Health_V1_HealthCheckRequest,
    response: RPCWriter<Grpc_Health_V1_HealthCheckResponse>, context: ServerContext
  ) async throws {
    let (updates, continuation) = AsyncStream.makeStream(
      of: ServingStatus.self, bufferingPolicy: .bufferingNewest(1))
    let id = state.withLock { state in
      defer { state.nextWatcher += 1 }
      state.watchers[state.nextWatcher] = (request.service, continuation)
      continuation.yield(state.statuses[request.service] ?? .serviceUnknown)
      return state.nextWatcher
    }
    defer { _ = state.withLock { $0.watchers.removeValue(forKey: id) } }
    try await withTaskCancellationHandler {
      var last: ServingStatus?
      for await status in updates where status != last {
        last = status
        try await response.write(.with { $0.status = status })
      }
    } onCancel: {
      continuation.finish()
    }
  }
}
