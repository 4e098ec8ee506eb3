import CLinuxPoll
import Foundation
import Glibc
import Synchronization

/// A thread that waits in epoll for PostgreSQL sockets and runs what they report itself: the
/// serial context every libpq call of a connection runs in (`PostgresConnection`).
///
/// Why not Dispatch: a read source is watched by dispatch's manager thread, which hands each
/// event to a worker thread, so an answer from the server woke two threads before the caller's
/// task was even resumed, and a request woke a third to be sent (docs/store.md, "Driving
/// libpq"). Here the kernel wakes the thread that reads the answer, and a request wakes it
/// once. A few threads serve every connection of the process (`next()`).
///
/// Jobs (`execute`) may come from any thread. Watches and timers belong to the reactor's
/// thread: only code it runs may add or remove them.
final class PostgresReactor: @unchecked Sendable {
  /// Identifies a watch or a timer; never reused.
  struct Token: Hashable {
    fileprivate let value: UInt64
  }

  private struct Timer {
    var token: Token
    var deadline: ContinuousClock.Instant
    var job: () -> Void
  }

  private let epoll: Int32
  /// An eventfd that `execute` writes when the inbox was empty: the thread may be in epoll.
  private let wakeFD: Int32
  private let inbox = Mutex<[@Sendable () -> Void]>([])
  // Touched only on the reactor's thread.
  private var watches: [UInt64: () -> Void] = [:]
  private var timers: [Timer] = []
  private var nextToken: UInt64 = 1
  private let name: String

  /// The reactors every connection is spread over, one per core up to two: result decoding
  /// runs on them, and the pool's connections outnumber the cores anyway.
  private static let all: [PostgresReactor] =
    (0..<min(2, max(1, ProcessInfo.processInfo.activeProcessorCount))).map {
      PostgresReactor(name: "chatd-pg-\($0)")
    }
  private static let turn = Atomic<Int>(0)

  /// The reactor for a new connection, in turn.
  static func next() -> PostgresReactor {
    all[turn.wrappingAdd(1, ordering: .relaxed).oldValue % all.count]
  }

  private init(name: String) {
    self.name = name
    epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    wakeFD = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    precondition(epoll >= 0 && wakeFD >= 0, "epoll or eventfd unavailable: \(errno)")
    var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: 0))
    precondition(epoll_ctl(epoll, EPOLL_CTL_ADD, wakeFD, &event) == 0)
    Thread { self.run() }.start()
  }

  /// Runs `job` on the reactor's thread, after what it is running now.
  func execute(_ job: @escaping @Sendable () -> Void) {
    let wasEmpty = inbox.withLock { jobs in
      jobs.append(job)
      return jobs.count == 1
    }
    if wasEmpty { _ = eventfd_write(wakeFD, 1) }
  }

  /// Calls `handler` whenever `fd` is readable (or writable), level-triggered, until
  /// `unwatch`; also on a hang-up or an error, which epoll always reports (a socket at EOF is
  /// readable too). On the reactor's thread; nil when epoll refuses the descriptor.
  func watch(_ fd: Int32, writable: Bool, _ handler: @escaping () -> Void) -> Token? {
    let token = makeToken()
    let interest = writable ? EPOLLOUT.rawValue : EPOLLIN.rawValue
    var event = epoll_event(events: interest, data: epoll_data_t(u64: token.value))
    guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else { return nil }
    watches[token.value] = handler
    return token
  }

  /// Stops a watch at once: an event already returned for it is dropped. The caller closes
  /// the descriptor afterwards. On the reactor's thread.
  func unwatch(_ token: Token, fd: Int32) {
    guard watches.removeValue(forKey: token.value) != nil else { return }
    _ = epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
  }

  /// Runs `job` at `deadline` unless cancelled first. On the reactor's thread.
  func schedule(at deadline: ContinuousClock.Instant, _ job: @escaping () -> Void) -> Token {
    let token = makeToken()
    let index = timers.firstIndex { $0.deadline > deadline } ?? timers.endIndex
    timers.insert(Timer(token: token, deadline: deadline, job: job), at: index)
    return token
  }

  /// On the reactor's thread.
  func cancelTimer(_ token: Token) {
    timers.removeAll { $0.token == token }
  }

  private func makeToken() -> Token {
    defer { nextToken += 1 }
    return Token(value: nextToken)
  }

  private func run() {
    // Linux keeps 15 bytes of a thread's name: "chatd-pg-0" shows in top and perf.
    _ = chatd_name_this_thread(name)
    var events = [epoll_event](repeating: epoll_event(), count: 64)
    while true {
      let ready = events.withUnsafeMutableBufferPointer { buffer in
        epoll_wait(epoll, buffer.baseAddress, Int32(buffer.count), waitMilliseconds())
      }
      for index in 0..<max(0, Int(ready)) {
        let token = events[index].data.u64
        if token == 0 {
          var count: eventfd_t = 0
          _ = eventfd_read(wakeFD, &count)
        } else {
          // A handler may have removed a watch whose event came in the same batch.
          watches[token]?()
        }
      }
      runDueTimers()
      let jobs = inbox.withLock { jobs in
        let taken = jobs
        jobs = []
        return taken
      }
      for job in jobs { job() }
    }
  }

  /// Until the next timer, rounded up to whole milliseconds; -1 (forever) without one.
  private func waitMilliseconds() -> Int32 {
    guard let first = timers.first else { return -1 }
    let left = first.deadline - .now
    guard left > .zero else { return 0 }
    let (seconds, attoseconds) = left.components
    return Int32(min(Int64(Int32.max), seconds * 1000 + attoseconds / 1_000_000_000_000_000 + 1))
  }

  private func runDueTimers() {
    let now = ContinuousClock.now
    while let first = timers.first, first.deadline <= now {
      timers.removeFirst()
      first.job()
    }
  }
}
