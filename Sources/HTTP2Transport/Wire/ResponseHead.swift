import RPCCore

/// Response header and trailer blocks. The common cases are static blocks, built once.
enum ResponseHead {
  static let acceptEncoding = "identity,gzip"

  static func headers(_ metadata: Metadata, compressed: Bool) -> HeaderBlock {
    if metadata.isEmpty, !compressed { return .fixed(.okResponseHeaders) }
    var list: HeaderList = [
      (":status", "200"), ("content-type", "application/grpc"),
      ("grpc-accept-encoding", acceptEncoding),
    ]
    if compressed { list.append("grpc-encoding", "gzip") }
    append(metadata, to: &list)
    return .fields(list)
  }

  static func trailers(_ status: Status, _ metadata: Metadata) -> HeaderBlock {
    if status.code == .ok, status.message.isEmpty, metadata.isEmpty { return .fixed(.okTrailers) }
    var list: HeaderList = [("grpc-status", String(status.code.rawValue))]
    if !status.message.isEmpty {
      list.append("grpc-message", PercentEncoding.encode(status.message))
    }
    append(metadata, to: &list)
    return .fields(list)
  }

  /// Headers and status in one block, for a call that ends before any message.
  static func trailersOnly(_ status: Status, _ metadata: Metadata, httpStatus: Int = 200)
    -> HeaderBlock
  {
    var list: HeaderList = [
      (":status", String(httpStatus)), ("content-type", "application/grpc"),
      ("grpc-accept-encoding", acceptEncoding),
      ("grpc-status", String(status.code.rawValue)),
    ]
    if !status.message.isEmpty {
      list.append("grpc-message", PercentEncoding.encode(status.message))
    }
    append(metadata, to: &list)
    return .fields(list)
  }

  /// The status message, cut to 1 KiB of UTF-8 on a character boundary: a header block past
  /// the peer's limits would be dropped by nghttp2, and a message may echo client input.
  static func encodedMessage(_ message: String) -> String {
    guard message.utf8.count > 1024 else { return PercentEncoding.encode(message) }
    var cut = ""
    for character in message {
      guard cut.utf8.count + character.utf8.count <= 1021 else { break }
      cut.append(character)
    }
    return PercentEncoding.encode(cut + "...")
  }

  private static func append(_ metadata: Metadata, to list: inout HeaderList) {
    for entry in metadata {
      switch entry.value {
      case .string(let value): list.append(entry.key, value)
      case .binary(let bytes): list.append(entry.key, Base64.encode(bytes, padded: false))
      }
    }
  }
}
