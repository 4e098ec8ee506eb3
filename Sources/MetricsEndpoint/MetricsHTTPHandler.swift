import NIOCore
import NIOHTTP1

/// Answers one HTTP/1.1 connection's requests: the metrics on `GET` or `HEAD /metrics`
/// (any query string ignored), 405 for other methods there, 404 elsewhere. Connections stay
/// open between scrapes unless the client asks otherwise.
final class MetricsHTTPHandler: ChannelInboundHandler {
  typealias InboundIn = HTTPServerRequestPart
  typealias OutboundOut = HTTPServerResponsePart

  static let contentType = "text/plain; version=0.0.4; charset=utf-8"

  private let render: @Sendable () -> [UInt8]
  private var request: HTTPRequestHead?

  init(render: @escaping @Sendable () -> [UInt8]) {
    self.render = render
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      request = head
    case .body:
      break  // A scrape has no body; anything sent is read and dropped.
    case .end:
      guard let head = request else { return }
      request = nil
      respond(to: head, context: context)
    }
  }

  private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
    let path = head.uri.prefix { $0 != "?" }
    guard path == "/metrics" else {
      return send(.notFound, body: Array("not found\n".utf8), for: head, context: context)
    }
    guard head.method == .GET || head.method == .HEAD else {
      return send(
        .methodNotAllowed, body: Array("use GET\n".utf8), extraHeaders: [("Allow", "GET, HEAD")],
        for: head, context: context)
    }
    send(.ok, body: render(), contentType: Self.contentType, for: head, context: context)
  }

  private func send(
    _ status: HTTPResponseStatus, body: [UInt8],
    contentType: String = "text/plain; charset=utf-8", extraHeaders: [(String, String)] = [],
    for request: HTTPRequestHead, context: ChannelHandlerContext
  ) {
    var headers = HTTPHeaders([
      ("Content-Type", contentType), ("Content-Length", "\(body.count)"),
    ])
    headers.add(contentsOf: extraHeaders)
    let keepAlive = request.isKeepAlive
    if !keepAlive { headers.add(name: "Connection", value: "close") }
    context.write(
      wrapOutboundOut(
        .head(HTTPResponseHead(version: request.version, status: status, headers: headers))),
      promise: nil)
    // A HEAD answer has the headers of the GET one and no body.
    if request.method != .HEAD {
      let buffer = context.channel.allocator.buffer(bytes: body)
      context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }
    let channel = context.channel
    context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
      if !keepAlive { channel.close(promise: nil) }
    }
  }
}
