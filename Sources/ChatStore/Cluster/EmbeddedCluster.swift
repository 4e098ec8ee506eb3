import Dispatch
public import Foundation

/// A private PostgreSQL cluster in chatd's data directory, reachable only through a unix
/// socket in that directory (`listen_addresses = ''`).
///
/// The first start runs initdb; later starts reuse the cluster. initdb refuses to run as
/// root, so as root the cluster belongs to and runs as the `postgres` user. That user must
/// traverse every parent folder of the cluster; when the data directory sits somewhere it
/// cannot reach (a checkout under /root, say), the cluster lives in postgres's own home
/// instead, at `/var/lib/postgresql/chatd/<name>-<hash of the data dir>`, one per data dir.
/// scripts/pg does the same for shell scripts and tests.
public struct EmbeddedCluster: Sendable {
  /// The cluster's folder: `data/` (PGDATA), `socket/`, `postgres.log`.
  public let directory: URL
  /// Where initdb, pg_ctl and postgres live.
  public let binDirectory: URL

  public init(
    dataDir: String,
    binDirectory: String = "/usr/lib/postgresql/15/bin"
  ) {
    let base = URL(fileURLWithPath: dataDir, isDirectory: true).standardizedFileURL
    if getuid() == 0, !Self.postgresCanTraverse(base.path) {
      directory = URL(fileURLWithPath: "/var/lib/postgresql/chatd", isDirectory: true)
        .appendingPathComponent(Self.clusterName(for: base.path), isDirectory: true)
    } else {
      directory = base.appendingPathComponent("postgres", isDirectory: true)
    }
    self.binDirectory = URL(fileURLWithPath: binDirectory, isDirectory: true)
  }

  /// Whether the `postgres` user may traverse every existing folder on the way to `path`.
  static func postgresCanTraverse(_ path: String) -> Bool {
    guard let account = getpwnam("postgres") else { return false }
    let uid = account.pointee.pw_uid
    let gid = account.pointee.pw_gid
    var folder = ""
    for component in path.split(separator: "/") {
      folder += "/" + component
      var info = stat()
      guard stat(folder, &info) == 0 else { return true }  // Created later, by us.
      let mode = info.st_mode
      let allowed =
        info.st_uid == uid
        ? mode & S_IXUSR != 0
        : info.st_gid == gid ? mode & S_IXGRP != 0 : mode & S_IXOTH != 0
      if !allowed { return false }
    }
    return true
  }

  /// A stable folder name per data directory: its last component and an FNV-1a hash.
  static func clusterName(for path: String) -> String {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in path.utf8 {
      hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
    }
    let name = path.split(separator: "/").last.map(String.init) ?? "root"
    let safe = name.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    return "\(safe.prefix(24))-\(String(hash, radix: 16))"
  }

  var dataPath: String { directory.appendingPathComponent("data").path }
  var socketPath: String { directory.appendingPathComponent("socket").path }

  /// The libpq URI of the cluster's `postgres` database.
  public var url: String { "postgresql://postgres@/postgres?host=\(socketPath)" }

  /// Creates (first run) and starts the cluster; returns its URL. Runs the blocking child
  /// processes on a dispatch thread, never on the caller's executor.
  public func start() async throws -> String {
    try await onDispatchThread { try self.startBlocking() }
    return url
  }

  /// Stops the cluster (fast shutdown: open sessions are cut).
  public func stop() async {
    _ = try? await onDispatchThread {
      try self.run("pg_ctl", ["-D", self.dataPath, "-m", "fast", "-w", "stop"])
    }
  }

  private func startBlocking() throws {
    for tool in ["initdb", "pg_ctl", "postgres"] {
      let path = binDirectory.appendingPathComponent(tool).path
      guard FileManager.default.isExecutableFile(atPath: path) else {
        throw EmbeddedClusterError(
          "PostgreSQL binary \(path) is missing: install PostgreSQL 15 "
            + "(apt-get install -y postgresql) or pass --database-url")
      }
    }
    // sun_path holds 107 bytes including the socket's own name.
    guard socketPath.utf8.count + "/.s.PGSQL.5432".utf8.count < 107 else {
      throw EmbeddedClusterError(
        "the data directory path is too long for a unix socket: \(socketPath)")
    }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    if getuid() == 0 { try handOverToPostgresUser() }
    if !FileManager.default.fileExists(atPath: dataPath + "/PG_VERSION") {
      try run(
        "initdb",
        ["-D", dataPath, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"],
        log: "initdb.log")
    }
    try run("mkdir", ["-p", socketPath], tool: "/bin/mkdir")
    if (try? run("pg_ctl", ["-D", dataPath, "status"])) != nil { return }
    try run(
      "pg_ctl",
      [
        "-D", dataPath, "-l", directory.appendingPathComponent("postgres.log").path, "-w",
        "-t", "30", "-o",
        "-c listen_addresses='' -c unix_socket_directories='\(socketPath)' -c max_connections=200",
        "start",
      ])
  }

  private func handOverToPostgresUser() throws {
    guard getpwnam("postgres") != nil else {
      throw EmbeddedClusterError(
        "chatd runs as root, so its PostgreSQL must run as the 'postgres' user, which is missing"
          + " (apt-get install -y postgresql)")
    }
    try run("chown", ["-R", "postgres:", directory.path], tool: "/bin/chown", asOwner: false)
    do {
      try run("test", ["-w", directory.path], tool: "/usr/bin/test")
    } catch {
      throw EmbeddedClusterError(
        "user postgres cannot reach \(directory.path): every parent folder must be traversable"
          + " by it (chmod o+x), or choose a --data-dir elsewhere")
    }
  }

  /// Runs a PostgreSQL tool (as `postgres` when we are root); throws with the log's path.
  @discardableResult
  private func run(
    _ name: String, _ arguments: [String], tool: String? = nil, asOwner: Bool = true,
    log: String? = nil
  ) throws -> Int32 {
    let executable = tool ?? binDirectory.appendingPathComponent(name).path
    let process = Process()
    var command = [executable] + arguments
    if asOwner && getuid() == 0 {
      command = ["/usr/sbin/runuser", "-u", "postgres", "--"] + command
    }
    // The server that pg_ctl starts outlives it and must not inherit our descriptors: Foundation
    // waits for EOF on a socket it hands to children, and a daemon holding it would hang us.
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments =
      [
        "-c",
        #"for fd in /proc/$$/fd/*; do n=${fd##*/}; [ "$n" -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null; exec "$@""#,
        "bash",
      ] + command
    let logURL = directory.appendingPathComponent(log ?? "\(name).log")
    _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
    let handle = try FileHandle(forWritingTo: logURL)
    defer { try? handle.close() }
    process.standardOutput = handle
    process.standardError = handle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw EmbeddedClusterError(
        "\(name) failed (exit \(process.terminationStatus)), see \(logURL.path)")
    }
    return process.terminationStatus
  }
}

/// Why the embedded cluster could not start; the message says what to do.
public struct EmbeddedClusterError: Error, Sendable, CustomStringConvertible {
  public var description: String

  init(_ description: String) {
    self.description = description
  }
}

/// Runs blocking work on a dispatch thread and awaits it.
func onDispatchThread<R: Sendable>(_ work: @escaping @Sendable () throws -> R) async throws -> R {
  try await withCheckedThrowingContinuation { continuation in
    DispatchQueue.global().async {
      continuation.resume(with: Result { try work() })
    }
  }
}
