import Glibc
public import RPCCore

/// A gRPC header block (a request's, or a response's on the client), gathered field by field
/// as nghttp2 decodes it.
///
/// Fields the protocol defines are recognised by their bytes, so a typical request makes no
/// String but its path; only application metadata becomes Strings.
struct RequestHead {
  var method = ""
  var path = ""
  var contentType = ""
  var isGRPC = false
  var timeout: String?
  var encoding: String?
  /// Whether the peer takes gzip messages (`grpc-accept-encoding`).
  var acceptsGzip = false
  var metadata = Metadata()
  /// A `-bin` value that is not base64 makes the request malformed.
  var malformedBinaryKey: String?

  mutating func add(name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
    if name.first == UInt8(ascii: ":") {
      if name.equals(":path") {
        path = String(decoding: value, as: UTF8.self)
      } else if name.equals(":method") {
        method = value.equals("POST") ? "POST" : String(decoding: value, as: UTF8.self)
      }
      // :scheme and :authority mean nothing to gRPC routing.
    } else if name.equals("content-type") {
      isGRPC =
        value.equals("application/grpc") || value.hasPrefix("application/grpc+")
        || value.hasPrefix("application/grpc;")
      if !isGRPC { contentType = String(decoding: value, as: UTF8.self) }
    } else if name.equals("te") {
      return
    } else if name.equals("grpc-accept-encoding") {
      acceptsGzip = value.split(separator: UInt8(ascii: ",")).contains {
        $0.filter { $0 != UInt8(ascii: " ") }.elementsEqual("gzip".utf8)
      }
    } else if name.equals("grpc-timeout") {
      timeout = String(decoding: value, as: UTF8.self)
    } else if name.equals("grpc-encoding") {
      encoding = String(decoding: value, as: UTF8.self)
    } else {
      addMetadata(name: String(decoding: name, as: UTF8.self), value: value)
    }
  }

  private mutating func addMetadata(name: String, value: UnsafeRawBufferPointer) {
    if name.hasSuffix("-bin") {
      if let bytes = Base64.decode(String(decoding: value, as: UTF8.self)) {
        metadata.addBinary(bytes, forKey: name)
      } else {
        malformedBinaryKey = name
      }
    } else {
      metadata.addString(String(decoding: value, as: UTF8.self), forKey: name)
    }
  }
}

extension UnsafeRawBufferPointer {
  /// Byte-for-byte equality with an ASCII literal, without making a String.
  func equals(_ literal: StaticString) -> Bool {
    count == literal.utf8CodeUnitCount
      && (count == 0 || memcmp(baseAddress!, literal.utf8Start, count) == 0)
  }

  func hasPrefix(_ literal: StaticString) -> Bool {
    count >= literal.utf8CodeUnitCount
      && memcmp(baseAddress!, literal.utf8Start, literal.utf8CodeUnitCount) == 0
  }
}
