public import RPCCore

/// A gRPC request's header block, gathered field by field as nghttp2 decodes it.
struct RequestHead {
  var method = ""
  var path = ""
  var contentType = ""
  var timeout: String?
  var encoding: String?
  var acceptEncoding: String?
  var metadata = Metadata()
  /// A `-bin` value that is not base64 makes the request malformed.
  var malformedBinaryKey: String?

  mutating func add(name: String, value: String) {
    switch name {
    case ":method": method = value
    case ":path": path = value
    case ":scheme", ":authority", "te": break
    case "content-type": contentType = value
    case "grpc-timeout": timeout = value
    case "grpc-encoding": encoding = value
    case "grpc-accept-encoding": acceptEncoding = value
    default:
      if name.hasSuffix("-bin") {
        if let bytes = Base64.decode(value) {
          metadata.addBinary(bytes, forKey: name)
        } else {
          malformedBinaryKey = name
        }
      } else {
        metadata.addString(value, forKey: name)
      }
    }
  }

  /// True when the request carries gRPC (`application/grpc` or `application/grpc+proto`...).
  var isGRPC: Bool {
    contentType == "application/grpc" || contentType.hasPrefix("application/grpc+")
      || contentType.hasPrefix("application/grpc;")
  }

  /// Whether the client takes gzip responses.
  var acceptsGzip: Bool {
    guard let acceptEncoding else { return false }
    return acceptEncoding.split(separator: ",").contains { $0.filter { $0 != " " } == "gzip" }
  }
}

/// Response header and trailer blocks.
enum ResponseHead {
  static let acceptEncoding = "identity,gzip"

  static func headers(_ metadata: Metadata, compressed: Bool) -> HeaderList {
    var list: HeaderList = [
      (":status", "200"), ("content-type", "application/grpc"),
      ("grpc-accept-encoding", acceptEncoding),
    ]
    if compressed { list.append("grpc-encoding", "gzip") }
    append(metadata, to: &list)
    return list
  }

  static func trailers(_ status: Status, _ metadata: Metadata) -> HeaderList {
    var list: HeaderList = [("grpc-status", String(status.code.rawValue))]
    if !status.message.isEmpty {
      list.append("grpc-message", PercentEncoding.encode(status.message))
    }
    append(metadata, to: &list)
    return list
  }

  /// Headers and status in one block, for a call that ends before any message.
  static func trailersOnly(_ status: Status, _ metadata: Metadata, httpStatus: Int = 200)
    -> HeaderList
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
    return list
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
