import Synchronization

/// The server context new connections use, replaceable while connections run (SIGHUP):
/// a connection takes the current context when it is accepted and keeps it for its life.
public final class ReloadableTLSContext: Sendable {
  public let configuration: TLSServerConfiguration
  private let current: Mutex<TLSContext>

  /// Loads the files once; throws when they do not make a valid context.
  public init(_ configuration: TLSServerConfiguration) throws(TLSError) {
    self.configuration = configuration
    self.current = Mutex(try TLSContext(server: configuration))
  }

  public var context: TLSContext { current.withLock { $0 } }

  /// Reads the files again. On failure the previous context stays in use and the error says why.
  public func reload() throws(TLSError) {
    let fresh = try TLSContext(server: configuration)
    current.withLock { $0 = fresh }
  }
}
