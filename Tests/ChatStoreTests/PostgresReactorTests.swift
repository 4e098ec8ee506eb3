import Foundation
import Glibc
import Synchronization
import Testing

@testable import ChatStore

/// The reactor every PostgreSQL connection runs on: jobs in order on its one thread, timers by
/// deadline, level-triggered watches that stop at once.
@Suite struct PostgresReactorTests {
  private let reactor = PostgresReactor.next()

  /// What the reactor's jobs record, read by the test.
  private final class Record<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    init(_ value: Value) { self.value = Mutex(value) }
    func update<R>(_ body: (inout Value) -> R) -> R { value.withLock { body(&$0) } }
    var current: Value { value.withLock { $0 } }
  }

  /// Runs `body` on the reactor's thread and returns what it returns.
  private func onReactor<R: Sendable>(_ body: @escaping @Sendable () -> R) async -> R {
    await withCheckedContinuation { continuation in
      reactor.execute { continuation.resume(returning: body()) }
    }
  }

  @Test func jobsFromManyThreadsRunInOrderPerSenderOnTheReactorsThread() async {
    let seen = Record<[(sender: Int, index: Int, thread: pthread_t)]>([])
    await withTaskGroup(of: Void.self) { [reactor] group in
      for sender in 0..<4 {
        group.addTask {
          for index in 0..<500 {
            reactor.execute { seen.update { $0.append((sender, index, pthread_self())) } }
          }
        }
      }
    }
    // Every job queued before this one has run when it runs.
    let reactorThread = await onReactor { pthread_self() }
    let jobs = seen.current
    #expect(jobs.count == 2_000)
    #expect(jobs.allSatisfy { $0.thread == reactorThread })
    #expect(reactorThread != pthread_self())
    for sender in 0..<4 {
      #expect(jobs.filter { $0.sender == sender }.map(\.index) == Array(0..<500))
    }
  }

  @Test func timersFireByDeadlineAndACancelledOneNever() async throws {
    let fired = Record<[String]>([])
    let done = Record<CheckedContinuation<Void, Never>?>(nil)
    await withCheckedContinuation { continuation in
      done.update { $0 = continuation }
      reactor.execute { [reactor] in
        let now = ContinuousClock.now
        _ = reactor.schedule(at: now + .milliseconds(60)) {
          fired.update { $0.append("last") }
          done.update { $0?.resume() }
        }
        _ = reactor.schedule(at: now + .milliseconds(20)) { fired.update { $0.append("first") } }
        let cancelled = reactor.schedule(at: now + .milliseconds(40)) {
          fired.update { $0.append("cancelled") }
        }
        reactor.cancelTimer(cancelled)
      }
    }
    #expect(fired.current == ["first", "last"])
  }

  @Test func aWatchIsLevelTriggeredAndStopsAtOnce() async throws {
    var fds: [Int32] = [0, 0]
    try #require(pipe(&fds) == 0)
    let (readEnd, writeEnd) = (fds[0], fds[1])
    defer {
      close(readEnd)
      close(writeEnd)
    }
    let calls = Record(0)
    let stopped = Record<CheckedContinuation<Void, Never>?>(nil)
    await withCheckedContinuation { continuation in
      stopped.update { $0 = continuation }
      reactor.execute { [reactor] in
        var token: PostgresReactor.Token?
        token = reactor.watch(readEnd, writable: false) {
          // Not read on the first two calls: a level-triggered watch reports it again.
          let count = calls.update {
            $0 += 1
            return $0
          }
          guard count == 3, let watching = token else { return }
          var byte: UInt8 = 0
          _ = read(readEnd, &byte, 1)
          reactor.unwatch(watching, fd: readEnd)
          stopped.update { $0?.resume() }
        }
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
      }
    }
    // Readable again, but no longer watched.
    var byte: UInt8 = 2
    _ = write(writeEnd, &byte, 1)
    await onReactor {}
    try await Task.sleep(for: .milliseconds(50))
    await onReactor {}
    #expect(calls.current == 3)
  }
}
