import NIOCore
public import RPCCore

/// Runs Swift tasks on one NIO event loop, so a handler started from a connection stays on
/// that connection's thread: no hop between threads per request or per message (the server's
/// handlers, the client's response readers). It is also the loop's write lane: fan-out writes
/// an event to every stream of the loop from one job. The server keeps one per loop, shared
/// by the loop's connections.
final class EventLoopTaskExecutor: TaskExecutor, WriteLane {
  let eventLoop: any EventLoop

  init(_ eventLoop: any EventLoop) {
    self.eventLoop = eventLoop
  }

  func enqueue(_ job: consuming ExecutorJob) {
    let job = UnownedJob(job)
    eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
  }

  func execute(_ work: @escaping @Sendable () -> Void) {
    eventLoop.execute(work)
  }
}
