import Glibc
import HTTP2Transport
import Logging
import NIOCore
import NIOPosix
import RPCCore
import ServiceLifecycle
import Testing

/// The client against servers that are not gRPC servers at all, or broken ones: a call ends
/// with a status every time, it never waits forever.
@Suite(.timeLimit(.minutes(1))) struct MisbehavingServerTests {
  /// A TCP server on a free loopback port that writes `greeting` to every connection it
  /// accepts and then reads and drops whatever the client sends.
  func withRawServer(
    greeting: [UInt8], _ body: (GRPCClient) async throws -> Void
  ) async throws {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .childChannelInitializer { child in
        child.eventLoop.makeCompletedFuture {
          try child.pipeline.syncOperations.addHandler(Greeter(greeting: greeting))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
    let client = GRPCClient(host: "127.0.0.1", port: channel.localAddress!.port!)
    do {
      try await body(client)
    } catch {
      await client.close()
      try await channel.close()
      throw error
    }
    await client.close()
    try await channel.close()
  }

  func expectFailure(
    _ code: Status.Code, from client: GRPCClient, timeout: Duration, saying words: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
  ) async {
    do {
      let _: Raw = try await client.unary(
        Echo.get, request: Raw("hello"), options: CallOptions(timeout: timeout))
      Issue.record("expected \(code), the call succeeded", sourceLocation: sourceLocation)
    } catch let error as RPCError {
      #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
      if let words {
        #expect(error.message.contains(words), "\(error)", sourceLocation: sourceLocation)
      }
    } catch {
      Issue.record("expected RPCError \(code), got \(error)", sourceLocation: sourceLocation)
    }
  }

  /// The server accepts and never says a word: the call's own timeout ends it.
  @Test func aSilentServerEndsTheCallAtItsTimeout() async throws {
    try await withRawServer(greeting: []) { client in
      await expectFailure(.deadlineExceeded, from: client, timeout: .milliseconds(300))
    }
  }

  /// A listener whose accept queue is full drops the client's SYNs, so the connection is
  /// never made: the call's timeout ends the wait, not NIO's connect timeout of 10 s.
  @Test func aServerThatNeverAcceptsEndsTheCallAtItsTimeout() async throws {
    let listener = try FullListener()
    let client = GRPCClient(host: "127.0.0.1", port: listener.port)
    await expectFailure(
      .deadlineExceeded, from: client, timeout: .milliseconds(300), saying: "not connected")
    // The connect goes on after the call: the port closed, its next SYN is refused.
    listener.close()
    await client.close()
  }

  /// The connect a call gave up on goes on for later calls; when it then fails, the next call
  /// connects anew instead of inheriting that failure: here to a server that has come up on
  /// the port meanwhile.
  @Test func aConnectThatFailsAfterACallsDeadlineDoesNotFailTheNextCall() async throws {
    let listener = try FullListener()
    let client = GRPCClient(host: "127.0.0.1", port: listener.port)
    await expectFailure(.deadlineExceeded, from: client, timeout: .milliseconds(300))
    // The SYN is sent again about 1 s after the first and, the port closed, refused.
    listener.close()
    try await Task.sleep(for: .milliseconds(2500))
    let server = GRPCServer(
      configuration: GRPCServerConfiguration(host: "127.0.0.1", port: listener.port),
      router: RPCRouter(services: [EchoService(log: EchoLog())]), logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      _ = try await server.listeningAddress
      let reply: Raw = try await client.unary(
        Echo.get, request: Raw("again"), options: CallOptions(timeout: .seconds(10)))
      #expect(reply.text == "again")
      await client.close()
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }

  /// A server whose first frame is not its SETTINGS (here a SETTINGS acknowledgement, what
  /// the client saw when it lost the server's first bytes): nghttp2 ends the session, and
  /// the call fails at once as UNAVAILABLE instead of waiting for its timeout.
  @Test func aServerThatSkipsItsSettingsFailsTheCallAsUnavailable() async throws {
    let settingsAck: [UInt8] = [0, 0, 0, 4, 1, 0, 0, 0, 0]
    try await withRawServer(greeting: settingsAck) { client in
      await expectFailure(.unavailable, from: client, timeout: .seconds(30))
    }
  }
}

private final class Greeter: ChannelInboundHandler, Sendable {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer
  let greeting: [UInt8]

  init(greeting: [UInt8]) { self.greeting = greeting }

  func channelActive(context: ChannelHandlerContext) {
    if !greeting.isEmpty {
      context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: greeting)), promise: nil)
    }
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// A loopback listener that never accepts, with a backlog of 1 and two connections already in
/// its queue: Linux drops the SYNs of every further connection while the queue is full
/// (the queue counts as full above its backlog; SYN cookies play no part, since no handshake
/// is pending when the two connect).
private struct FullListener {
  let port: Int
  private let sockets: [Int32]

  init() throws {
    var opened: [Int32] = []
    do {
      let listener = try Self.socket(&opened)
      var address = sockaddr_in()
      address.sin_family = sa_family_t(AF_INET)
      address.sin_addr.s_addr = inet_addr("127.0.0.1")
      var length = socklen_t(MemoryLayout<sockaddr_in>.size)
      let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
          bind(listener, socketAddress, length) == 0 && listen(listener, 1) == 0
            && getsockname(listener, socketAddress, &length) == 0
        }
      }
      guard bound else { throw SocketError(errno: errno) }
      // The connections the queue holds: plain blocking connects, completed at once.
      for _ in 0..<2 {
        let queued = try Self.socket(&opened)
        let connected = withUnsafePointer(to: &address) { pointer in
          pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(queued, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
          }
        }
        guard connected else { throw SocketError(errno: errno) }
      }
      port = Int(UInt16(bigEndian: address.sin_port))
      sockets = opened
    } catch {
      for socket in opened { _ = Glibc.close(socket) }
      throw error
    }
  }

  private static func socket(_ opened: inout [Int32]) throws -> Int32 {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw SocketError(errno: errno) }
    opened.append(socket)
    return socket
  }

  func close() {
    for socket in sockets { _ = Glibc.close(socket) }
  }
}

private struct SocketError: Error {
  let errno: Int32
}
