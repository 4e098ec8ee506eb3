import NIOCore
import NIOHTTP1

/// The last handler of an `HTTPClient` pipeline: gathers one response (head, body up to
/// `HTTPClient.maxResponseBytes`, end) and completes the exchange with it.
final class HTTPResponseCollector: ChannelInboundHandler {
  typealias InboundIn = HTTPClientResponsePart

  let exchange: HTTPExchange
  private var head: HTTPResponseHead?
  private var body: ByteBuffer?

  init(exchange: HTTPExchange) {
    self.exchange = exchange
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch unwrapInboundIn(data) {
    case .head(let head):
      // 1xx heads are interim; the final one replaces them.
      self.head = head
    case .body(var part):
      if (body?.readableBytes ?? 0) + part.readableBytes > HTTPClient.maxResponseBytes {
        exchange.fail(HTTPClient.Failure.responseTooLarge)
        context.close(promise: nil)
        return
      }
      if body == nil { body = part } else { body!.writeBuffer(&part) }
    case .end:
      guard let head else {
        exchange.fail(HTTPClient.Failure.connectionClosed)
        return
      }
      exchange.succeed(
        HTTPClient.Response(
          status: Int(head.status.code), headers: head.headers,
          body: body.map { Array($0.readableBytesView) } ?? []))
    }
  }

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    exchange.fail(error)
    context.close(promise: nil)
  }

  func channelInactive(context: ChannelHandlerContext) {
    exchange.fail(HTTPClient.Failure.connectionClosed)
    context.fireChannelInactive()
  }
}
