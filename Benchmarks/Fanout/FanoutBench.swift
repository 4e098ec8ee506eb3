import ArgumentParser

/// Fan-out, idle-stream and mixed-day load for chatd, through chatd's own gRPC client
/// (HTTP2Transport's GRPCClient and the generated ChatProtos stubs). Benchmarks/fanout.sh
/// starts the servers and runs the fan-out and idle workloads, scripts/bench the mixed day;
/// this tool only talks to servers that are already running.
///
/// Every figure goes to stdout as one `key=value` line (or, with `--json`, one JSON object), so
/// scripts can tabulate runs; progress goes to stderr.
@main
struct FanoutBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "FanoutBench",
    abstract: "Fan-out, idle-stream and mixed-day load for chatd through its own gRPC client.",
    subcommands: [FanoutCommand.self, IdleCommand.self, MixedCommand.self])
}
