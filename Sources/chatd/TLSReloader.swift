import Logging
import ServiceLifecycle
import TLS
import UnixSignals

/// Reloads the certificate and key on SIGHUP: connections accepted afterwards get the new
/// context, established ones keep theirs. Bad files leave the previous context serving.
struct TLSReloader: Service {
  let tls: ReloadableTLSContext
  let logger: Logger

  func run() async throws {
    let signals = await UnixSignalsSequence(trapping: .sighup)
    for await _ in signals.cancelOnGracefulShutdown() {
      do {
        try tls.reload()
        logger.notice(
          "TLS certificate reloaded",
          metadata: ["cert": "\(tls.configuration.certificateChainFile)"])
      } catch {
        logger.error(
          "TLS reload failed; still serving the previous certificate",
          metadata: ["error": "\(error)"])
      }
    }
  }
}
