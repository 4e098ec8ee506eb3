import NIOCore

/// One request's outcome, completed once: by the response, an error, the connection closing
/// or the deadline, whichever comes first. Every member is touched only on the promise's event
/// loop (the connect callback, the pipeline and the deadline all run there), which is why it
/// may be `@unchecked Sendable`.
final class HTTPExchange: @unchecked Sendable {
  let promise: EventLoopPromise<HTTPClient.Response>
  var channel: (any Channel)?
  private(set) var isDone = false

  init(promise: EventLoopPromise<HTTPClient.Response>) {
    self.promise = promise
  }

  func succeed(_ response: HTTPClient.Response) {
    guard !isDone else { return }
    isDone = true
    promise.succeed(response)
  }

  func fail(_ error: any Error) {
    guard !isDone else { return }
    isDone = true
    promise.fail(error)
  }
}
