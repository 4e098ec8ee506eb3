import NIOCore
import RPCCore

/// A stream's outgoing side whose state lives on one event loop: writes from any task hop
/// there, and wait only when the stream's queue is past its high-water mark.
protocol LoopBoundMessageSink: MessageSink {
  var eventLoop: any EventLoop { get }
  /// Queues a message; returns a future to wait on when the queue is full. On the loop only.
  func writeOnLoop(_ message: [UInt8]) throws -> EventLoopFuture<Void>?
}

extension LoopBoundMessageSink {
  func write(_ bytes: [UInt8]) async throws {
    if eventLoop.inEventLoop {
      if let wait = try writeOnLoop(bytes) { try await wait.get() }
    } else {
      try await eventLoop.flatSubmit {
        do {
          return try self.writeOnLoop(bytes) ?? self.eventLoop.makeSucceededVoidFuture()
        } catch {
          return self.eventLoop.makeFailedFuture(error)
        }
      }.get()
    }
  }
}
