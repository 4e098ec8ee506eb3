import ArgumentParser

/// Fan-out and idle-stream load for chatd, through chatd's own gRPC client (HTTP2Transport's
/// GRPCClient and the generated ChatProtos stubs). Benchmarks/fanout.sh starts the servers and
/// runs the workloads; this tool only talks to servers that are already running.
///
/// Every figure goes to stdout as one `key=value` line, so scripts can tabulate runs; progress
/// goes to stderr.
@main
struct FanoutBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "FanoutBench",
    abstract: "Fan-out and idle-stream load for chatd through its own gRPC client.",
    subcommands: [FanoutCommand.self, IdleCommand.self])
}
