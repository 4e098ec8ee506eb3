import Foundation

/// CPU time, resident memory and descriptors of a process, from /proc (Linux only).
package enum ProcessStats {
  package static let nanosPerTick = UInt64(1_000_000_000 / sysconf(Int32(_SC_CLK_TCK)))

  /// The fields of /proc/PID/stat after the command name (which may hold spaces), so that
  /// index 0 is field 3 (state) of proc(5).
  private static func statFields(_ pid: Int32) -> [Substring]? {
    guard let text = readFile("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else {
      return nil
    }
    return text[text.index(after: close)...].split(separator: " ")
  }

  /// User + system time of the process (every thread), in nanoseconds at tick resolution.
  package static func cpuNanos(_ pid: Int32) -> UInt64? {
    guard let fields = statFields(pid), fields.count > 12,
      let user = UInt64(fields[11]), let system = UInt64(fields[12])
    else { return nil }
    return (user + system) * nanosPerTick
  }

  /// CPU of a process tree one level deep: the process, the children it has reaped (cutime,
  /// cstime) and its live children. Fits PostgreSQL: backends are the postmaster's children.
  package static func treeCPUNanos(_ pid: Int32) -> UInt64? {
    guard let fields = statFields(pid), fields.count > 14,
      let user = UInt64(fields[11]), let system = UInt64(fields[12]),
      let childUser = UInt64(fields[13]), let childSystem = UInt64(fields[14])
    else { return nil }
    var total = (user + system + childUser + childSystem) * nanosPerTick
    for child in children(of: pid) { total += cpuNanos(child) ?? 0 }
    return total
  }

  package static func children(of parent: Int32) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
      guard let pid = Int32(entry), let fields = statFields(pid), fields.count > 1,
        Int32(fields[1]) == parent
      else { return nil }
      return pid
    }
  }

  /// VmRSS in bytes.
  package static func rssBytes(_ pid: Int32) -> Int? {
    guard let text = readFile("/proc/\(pid)/status") else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      if parts.count >= 2, let kib = Int(parts[1]) { return kib * 1024 }
    }
    return nil
  }

  package static func fileDescriptors(_ pid: Int32) -> Int? {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
  }

  /// /proc files report size 0, so read until end of file rather than by size.
  private static func readFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
      let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if count <= 0 { break }
      bytes.append(contentsOf: chunk[0..<count])
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}

/// CPU of the servers, the database and this process at one instant.
package struct CPUSnapshot {
  package let at: UInt64
  package let servers: [UInt64]
  package let postgres: UInt64
  package let client: UInt64

  package init(servers pids: [Int32], postgres: Int32?) {
    at = MonotonicClock.nanos()
    servers = pids.map { ProcessStats.cpuNanos($0) ?? 0 }
    self.postgres = postgres.flatMap(ProcessStats.treeCPUNanos) ?? 0
    client = ProcessStats.cpuNanos(getpid()) ?? 0
  }

  /// CPU used from `earlier` to this snapshot.
  package func since(_ earlier: CPUSnapshot) -> CPUUse {
    CPUUse(
      wall: at - earlier.at,
      servers: zip(servers, earlier.servers).map { $0 - $1 },
      postgres: postgres - earlier.postgres,
      client: client - earlier.client)
  }
}

package struct CPUUse {
  package let wall: UInt64
  package let servers: [UInt64]
  package let postgres: UInt64
  package let client: UInt64

  package var serverTotal: UInt64 { servers.reduce(0, +) }
}
