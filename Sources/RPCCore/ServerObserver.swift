/// Watches what a server does, for metrics: its connections, its HTTP/2 streams, and every
/// routed call from its request headers to the status the client receives.
///
/// The transport calls it inline on its event loops: implementations must be cheap and must
/// never block. What can be decided once is: `callObserver(for:)` runs once per method, when
/// routes are built, so a call only touches what its method prepared.
public protocol ServerObserver: Sendable {
  /// The observer of one method's calls.
  func callObserver(for method: MethodDescriptor) -> any CallObserver

  func connectionOpened()
  func connectionClosed()
  func streamOpened()
  func streamClosed()
}

/// One method's calls, as the transport sees them: unlike an interceptor it sees calls that
/// never reach the handler or end without it (a malformed request, a deadline, a reset).
public protocol CallObserver: Sendable {
  /// The request headers arrived and named this method.
  func callStarted()

  /// The call ended with `code`, the status the client receives (CANCELLED when the client
  /// reset the stream first). `duration` runs from the request headers to then.
  func callFinished(code: Status.Code, duration: Duration)
}

extension RPCRouter {
  /// The same routes, each carrying its method's observer for the transport to report to.
  public func observed(by observer: (any ServerObserver)?) -> RPCRouter {
    guard let observer else { return self }
    return mapMethods { method in
      var method = method
      method.observer = observer.callObserver(for: method.descriptor)
      return method
    }
  }
}
