import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle
import Synchronization
import Testing

/// What a server reported to its observer.
final class RecordingObserver: ServerObserver {
  struct Events {
    var started: [String] = []
    var finished: [(method: String, code: Status.Code)] = []
    var connections = 0
    var connectionsEver = 0
    var streams = 0
    var streamsEver = 0
  }

  let events = Mutex(Events())

  func callObserver(for method: MethodDescriptor) -> any CallObserver {
    Call(method: method.method, events: self)
  }

  func connectionOpened() {
    events.withLock {
      $0.connections += 1
      $0.connectionsEver += 1
    }
  }
  func connectionClosed() { events.withLock { $0.connections -= 1 } }
  func streamOpened() {
    events.withLock {
      $0.streams += 1
      $0.streamsEver += 1
    }
  }
  func streamClosed() { events.withLock { $0.streams -= 1 } }

  struct Call: CallObserver {
    let method: String
    let events: RecordingObserver

    func callStarted() { events.events.withLock { $0.started.append(method) } }
    func callFinished(code: Status.Code, duration: Duration) {
      #expect(duration >= .zero)
      events.events.withLock { $0.finished.append((method, code)) }
    }
  }

  var snapshot: Events { events.withLock { $0 } }

  /// Waits (boundedly) until `condition` holds: the server reports after it answers.
  func wait(until condition: (Events) -> Bool) async throws {
    for _ in 0..<500 where !condition(snapshot) {
      try await Task.sleep(for: .milliseconds(10))
    }
  }
}

/// The transport reports every routed call's end with the status the client received.
@Suite struct ServerObserverTests {
  func withObservedServer(
    configure: (inout GRPCServerConfiguration) -> Void = { _ in },
    _ body: (GRPCClient, RecordingObserver) async throws -> Void
  ) async throws {
    var configuration = GRPCServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let observer = RecordingObserver()
    let server = GRPCServer(
      configuration: configuration, router: RPCRouter(services: [EchoService(log: EchoLog())]),
      observer: observer, logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let (_, port) = try await server.listeningAddress
      let client = GRPCClient(host: "127.0.0.1", port: port)
      do {
        try await body(client, observer)
      } catch {
        await client.close()
        await group.triggerGracefulShutdown()
        throw error
      }
      await client.close()
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
    // Everything opened was closed once the server stopped.
    let events = observer.snapshot
    #expect(events.connections == 0)
    #expect(events.streams == 0)
    #expect(events.started.count == events.finished.count)
  }

  @Test func handlerOutcomesAndTransportFailuresAreReported() async throws {
    try await withObservedServer(configure: { $0.maxReceiveMessageSize = 16 }) {
      client, observer in
      let _: Raw = try await client.unary(Echo.get, request: Raw("hello"))
      _ = try? await client.unary(Echo.get, request: Raw("fail")) as Raw
      // Larger than the limit: ended by the transport, never reaching the handler.
      _ = try? await client.unary(Echo.get, request: Raw(String(repeating: "x", count: 17))) as Raw
      // The timeout as a header only: the client's own expiry at the same instant would
      // reset the stream first, and the server would see a cancelled call, not its deadline.
      _ =
        try? await client.unary(
          Echo.get, request: Raw("sleep"), options: CallOptions(metadata: ["grpc-timeout": "100m"]))
        as Raw
      // Not a routed method: no call to report.
      _ =
        try? await client.unary(
          MethodDescriptor(service: "test.Echo", method: "Nope", kind: .unary), request: Raw("x"))
        as Raw
      try await observer.wait { $0.finished.count == 4 }
      let events = observer.snapshot
      #expect(events.started == ["Get", "Get", "Get", "Get"])
      #expect(
        events.finished.map(\.code) == [.ok, .notFound, .resourceExhausted, .deadlineExceeded])
      #expect(events.connectionsEver == 1)
      #expect(events.streamsEver == 5)
    }
  }

  @Test func aCallTheClientCancelsIsReportedCancelled() async throws {
    try await withObservedServer { client, observer in
      let call = Task {
        let _: Raw = try await client.unary(Echo.get, request: Raw("sleep"))
      }
      try await observer.wait { $0.started.count == 1 }
      call.cancel()
      _ = await call.result
      try await observer.wait { $0.finished.count == 1 }
      #expect(observer.snapshot.finished.map(\.code) == [.cancelled])
    }
  }
}
