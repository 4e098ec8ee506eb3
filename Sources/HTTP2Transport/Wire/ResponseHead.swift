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

  private static func append(_ metadata: Metadata, to list: inout HeaderList) {
    for entry in metadata {
      switch entry.value {
      case .string(let value): list.append(entry.key, value)
      case .binary(let bytes): list.append(entry.key, Base64.encode(bytes, padded: false))
      }
    }
  }
}
