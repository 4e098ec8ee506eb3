import NIOCore
import NIOHTTP1
import NIOPosix
import TLS

/// A minimal HTTP/1.1 client on SwiftNIO: one request per connection (`Connection: close`),
/// TLS through the TLS module for `https` endpoints, a deadline covering connect, handshake,
/// request and response, and a bound on the response body. Enough for a low-rate JSON API;
/// it keeps no connections open between requests.
final class HTTPClient: Sendable {
  struct Response: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: [UInt8]
  }

  enum Failure: Error, CustomStringConvertible {
    case timedOut
    case connectionClosed
    case responseTooLarge
    case tlsUnavailable

    var description: String {
      switch self {
      case .timedOut: "timed out"
      case .connectionClosed: "connection closed before the response ended"
      case .responseTooLarge: "response too large"
      case .tlsUnavailable: "https needs a TLS context"
      }
    }
  }

  /// Responses beyond this are refused (OneSignal's are a few hundred bytes).
  static let maxResponseBytes = 1 << 20

  let group: any EventLoopGroup
  let tls: TLSContext?

  init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, tls: TLSContext?) {
    self.group = group
    self.tls = tls
  }

  /// Sends `body` and returns the whole response; throws `Failure` or a NIO/TLS error.
  func post(
    to endpoint: HTTPEndpoint, path: String, headers extra: [(String, String)], body: [UInt8],
    timeout: Duration
  ) async throws -> Response {
    let tls: TLSContext? = endpoint.isHTTPS ? self.tls : nil
    if endpoint.isHTTPS, tls == nil { throw Failure.tlsUnavailable }
    let eventLoop = group.next()
    let exchange = HTTPExchange(promise: eventLoop.makePromise(of: Response.self))
    let deadline = eventLoop.scheduleTask(in: .nanoseconds(timeout.nanoseconds)) {
      exchange.fail(Failure.timedOut)
    }
    exchange.promise.futureResult.whenComplete { _ in
      deadline.cancel()
      exchange.channel?.close(promise: nil)
    }

    var headers = HTTPHeaders()
    headers.add(name: "Host", value: endpoint.hostHeader)
    for (name, value) in extra { headers.add(name: name, value: value) }
    headers.add(name: "Content-Length", value: "\(body.count)")
    headers.add(name: "Connection", value: "close")
    let head = HTTPRequestHead(
      version: .http1_1, method: .POST, uri: endpoint.basePath + path, headers: headers)

    ClientBootstrap(group: eventLoop)
      .connectTimeout(.nanoseconds(timeout.nanoseconds))
      .channelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
          let pipeline = channel.pipeline.syncOperations
          if let tls {
            try pipeline.addHandler(TLSHandler(context: tls, serverName: endpoint.host))
          }
          try pipeline.addHTTPClientHandlers()
          try pipeline.addHandler(HTTPResponseCollector(exchange: exchange))
        }
      }
      .connect(host: endpoint.host, port: endpoint.port)
      .whenComplete { result in
        switch result {
        case .failure(let error):
          exchange.fail(error)
        case .success(let channel):
          guard !exchange.isDone else {
            channel.close(promise: nil)
            return
          }
          exchange.channel = channel
          var buffer = channel.allocator.buffer(capacity: body.count)
          buffer.writeBytes(body)
          channel.write(HTTPClientRequestPart.head(head), promise: nil)
          channel.write(HTTPClientRequestPart.body(.byteBuffer(buffer)), promise: nil)
          channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
      }
    return try await exchange.promise.futureResult.get()
  }
}

extension Duration {
  var nanoseconds: Int64 {
    components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
  }
}
