import Foundation
import HTTP2Transport
import Logging
import RPCCore
import ServiceLifecycle
import TLS
import Testing

/// The server and the client of this module over loopback TLS, with throwaway certificates
/// that the `openssl` CLI makes in a temporary folder.
@Suite struct TLSTests {
  /// A CA, a server certificate for localhost and 127.0.0.1, a client certificate.
  struct Certificates {
    let folder: URL
    var ca: String { folder.appendingPathComponent("ca.pem").path }
    var serverCert: String { folder.appendingPathComponent("server.pem").path }
    var serverKey: String { folder.appendingPathComponent("server.key").path }
    var clientCert: String { folder.appendingPathComponent("client.pem").path }
    var clientKey: String { folder.appendingPathComponent("client.key").path }

    init() throws {
      folder = FileManager.default.temporaryDirectory
        .appendingPathComponent("chatd-tls-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
      try openssl(
        ["req", "-x509"] + ec + [
          "-keyout", "ca.key", "-out", "ca.pem", "-days", "1", "-subj", "/CN=test CA",
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign",
        ])
      try issue("server", subject: "/CN=server", san: "DNS:localhost,IP:127.0.0.1")
      try issue("client", subject: "/CN=unit-test-service", san: nil)
    }

    private func issue(_ name: String, subject: String, san: String?) throws {
      try openssl(
        ["req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
          + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
      let extensions = san.map { "subjectAltName=\($0)\n" } ?? "basicConstraints=CA:FALSE\n"
      try extensions.write(
        to: folder.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
      try openssl([
        "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "\(name).pem", "-days", "1", "-extfile", "\(name).ext",
      ])
    }

    private func openssl(_ arguments: [String]) throws {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = ["openssl"] + arguments
      process.currentDirectoryURL = folder
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        throw TLSError("openssl \(arguments.first ?? "") failed")
      }
    }

    func remove() { try? FileManager.default.removeItem(at: folder) }
  }

  func withTLSServer(
    _ certificates: Certificates, _ body: (Int) async throws -> Void
  ) async throws {
    let tls = try ReloadableTLSContext(
      TLSServerConfiguration(
        certificateChainFile: certificates.serverCert, privateKeyFile: certificates.serverKey,
        clientCAFile: certificates.ca, clientAuthentication: .optional))
    let server = GRPCServer(
      configuration: GRPCServerConfiguration(host: "127.0.0.1", port: 0),
      router: RPCRouter(services: [EchoService(log: EchoLog())]), tls: tls,
      logger: Logger(label: "test"))
    let group = ServiceGroup(services: [server], logger: Logger(label: "test"))
    try await withThrowingTaskGroup(of: Void.self) { tasks in
      tasks.addTask { try await group.run() }
      let (_, port) = try await server.listeningAddress
      defer { certificates.remove() }
      do {
        try await body(port)
      } catch {
        await group.triggerGracefulShutdown()
        throw error
      }
      await group.triggerGracefulShutdown()
      try await tasks.waitForAll()
    }
  }

  @Test func clientVerifiesTheServerAndCallsOverTLS() async throws {
    let certificates = try Certificates()
    try await withTLSServer(certificates) { port in
      for name in ["localhost", "127.0.0.1"] {
        let client = GRPCClient(
          host: "127.0.0.1", port: port,
          tls: try TLSContext(client: .init(trustRoots: .file(certificates.ca))), serverName: name)
        let reply: Raw = try await client.unary(Echo.get, request: Raw("over tls"))
        #expect(reply.text == "over tls")
        await client.close()
      }
    }
  }

  @Test func clientCertificateReachesTheHandlerContext() async throws {
    let certificates = try Certificates()
    try await withTLSServer(certificates) { port in
      let client = GRPCClient(
        host: "127.0.0.1", port: port,
        tls: try TLSContext(
          client: .init(
            trustRoots: .file(certificates.ca), certificateChainFile: certificates.clientCert,
            privateKeyFile: certificates.clientKey)),
        serverName: "localhost")
      let reply: Raw = try await client.unary(Echo.whoAmI, request: Raw([]))
      #expect(reply.text == "unit-test-service")
      await client.close()
    }
  }

  @Test func wrongHostNameOrUntrustedServerFails() async throws {
    let certificates = try Certificates()
    try await withTLSServer(certificates) { port in
      let wrongName = GRPCClient(
        host: "127.0.0.1", port: port,
        tls: try TLSContext(client: .init(trustRoots: .file(certificates.ca))),
        serverName: "other.example")
      await expectUnavailable(wrongName, mentioning: "certificate verification")
      // The system store does not know the test CA.
      let untrusted = GRPCClient(
        host: "127.0.0.1", port: port, tls: try TLSContext(client: .init()),
        serverName: "localhost")
      await expectUnavailable(untrusted, mentioning: "certificate verification")
      // A plaintext client gets nothing it can use.
      let plaintext = GRPCClient(host: "127.0.0.1", port: port)
      await expectUnavailable(plaintext, mentioning: nil)
    }
  }

  @Test func anHTTP1ClientContextOffersHTTP1AndTheH2ServerRefusesIt() async throws {
    let certificates = try Certificates()
    try await withTLSServer(certificates) { port in
      let context = try TLSContext(
        client: .init(trustRoots: .file(certificates.ca), applicationProtocol: .http1))
      #expect(context.applicationProtocol == .http1)
      let client = GRPCClient(host: "127.0.0.1", port: port, tls: context, serverName: "localhost")
      await expectUnavailable(client, mentioning: nil)
    }
  }

  private func expectUnavailable(_ client: GRPCClient, mentioning text: String?) async {
    do {
      let _: Raw = try await client.unary(
        Echo.get, request: Raw("x"), options: CallOptions(timeout: .seconds(5)))
      Issue.record("the call succeeded")
    } catch let error as RPCError {
      #expect(error.code == .unavailable || error.code == .deadlineExceeded, "\(error)")
      if let text { #expect(error.message.contains(text), "\(error.message)") }
    } catch {
      Issue.record("unexpected \(error)")
    }
    await client.close()
  }

  @Test func missingOrMismatchedFilesAreRefusedAtStart() throws {
    let certificates = try Certificates()
    defer { certificates.remove() }
    #expect(throws: TLSError.self) {
      try TLSContext(
        server: .init(certificateChainFile: "/nonexistent.pem", privateKeyFile: "/nonexistent"))
    }
    #expect(throws: TLSError.self) {
      try TLSContext(
        server: .init(
          certificateChainFile: certificates.serverCert, privateKeyFile: certificates.clientKey))
    }
  }
}
