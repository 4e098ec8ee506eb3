import ArgumentParser

/// bench.v1 load against any server that serves it (chatd with --enable-bench-service, the
/// peers of Benchmarks/peers), through chatd's own gRPC client (HTTP2Transport's GRPCClient
/// and the generated BenchProtos stub). scripts/bench starts the servers and runs the
/// workloads; this tool only talks to a server that is already running.
///
/// Every measurement goes to stdout as one JSON object on one line; progress goes to stderr.
/// Unary throughput is measured with h2load by scripts/bench, not here.
@main
struct BenchLoad: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "BenchLoad",
    abstract: "bench.v1 fan-out and idle-stream load against any server.",
    subcommands: [FanoutCommand.self, IdleCommand.self])
}
