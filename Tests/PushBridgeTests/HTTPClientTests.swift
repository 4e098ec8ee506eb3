import NIOCore
import NIOHTTP1
import NIOPosix
import Testing

@testable import PushBridge

/// The client against a real NIO HTTP/1.1 server on a loopback port.
@Suite struct HTTPClientTests {
  /// Answers every request with its own method, URI and Host, unless `stall`.
  final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let stall: Bool
    var request = ""

    init(stall: Bool) { self.stall = stall }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
      switch unwrapInboundIn(data) {
      case .head(let head):
        request = "\(head.method) \(head.uri) \(head.headers["Host"].first ?? "")"
      case .body: break
      case .end:
        guard !stall else { return }
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString(request)
        let headers = HTTPHeaders([("Content-Length", "\(buffer.readableBytes)")])
        let head = HTTPResponseHead(version: .http1_1, status: .accepted, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
      }
    }
  }

  func withServer(stall: Bool, _ body: (Int) async throws -> Void) async throws {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
      .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          try channel.pipeline.syncOperations.configureHTTPServerPipeline()
          try channel.pipeline.syncOperations.addHandler(EchoHandler(stall: stall))
        }
      }
      .bind(host: "127.0.0.1", port: 0).get()
    defer { channel.close(promise: nil) }
    try await body(channel.localAddress!.port!)
  }

  @Test func postsAndReadsTheResponse() async throws {
    try await withServer(stall: false) { port in
      let client = HTTPClient(tls: nil)
      let response = try await client.post(
        to: HTTPEndpoint(url: "http://127.0.0.1:\(port)/base")!, path: "/notifications",
        headers: [("Content-Type", "application/json")], body: Array("{}".utf8),
        timeout: .seconds(5))
      #expect(response.status == 202)
      #expect(
        String(decoding: response.body, as: UTF8.self)
          == "POST /base/notifications 127.0.0.1:\(port)")
    }
  }

  @Test func aStalledServerTimesOut() async throws {
    try await withServer(stall: true) { port in
      let client = HTTPClient(tls: nil)
      let started = ContinuousClock.now
      await #expect(throws: HTTPClient.Failure.self) {
        _ = try await client.post(
          to: HTTPEndpoint(url: "http://127.0.0.1:\(port)")!, path: "/notifications",
          headers: [], body: [], timeout: .milliseconds(300))
      }
      // Liveness, not speed: the server never answers, so without the timeout this would wait
      // for as long as the test runs (a loaded machine stretches 300 ms to seconds).
      #expect(ContinuousClock.now - started < .seconds(20))
    }
  }

  @Test func aClosedPortFails() async throws {
    let client = HTTPClient(tls: nil)
    await #expect(throws: (any Error).self) {
      _ = try await client.post(
        to: HTTPEndpoint(url: "http://127.0.0.1:1")!, path: "/", headers: [], body: [],
        timeout: .seconds(2))
    }
  }
}
