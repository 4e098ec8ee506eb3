internal import CProtobufC
internal import CProtocPlugin

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A CodeGeneratorResponse: generated files or an error, encoded through protobuf-c.
struct PluginResponse {
  var files: [(name: String, content: String)] = []
  var error: String?

  /// Tells protoc the generator understands proto3 `optional`.
  private static let featureProto3Optional: UInt64 = 1

  func serialized() -> [UInt8] {
    var strings: [UnsafeMutablePointer<CChar>] = []
    defer { strings.forEach { free($0) } }
    func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
      let copy = strdup(string)!
      strings.append(copy)
      return copy
    }

    var cFiles = files.map { file in
      var cFile = Google__Protobuf__Compiler__CodeGeneratorResponse__File()
      google__protobuf__compiler__code_generator_response__file__init(&cFile)
      cFile.name = cString(file.name)
      cFile.content = cString(file.content)
      return cFile
    }
    return cFiles.withUnsafeMutableBufferPointer { cFiles in
      var pointers:
        [UnsafeMutablePointer<Google__Protobuf__Compiler__CodeGeneratorResponse__File>?] =
          (0..<cFiles.count).map { cFiles.baseAddress! + $0 }
      return pointers.withUnsafeMutableBufferPointer { pointers in
        var response = Google__Protobuf__Compiler__CodeGeneratorResponse()
        google__protobuf__compiler__code_generator_response__init(&response)
        response.has_supported_features = 1
        response.supported_features = Self.featureProto3Optional
        response.n_file = pointers.count
        response.file = pointers.baseAddress
        if let error { response.error = cString(error) }
        let size = google__protobuf__compiler__code_generator_response__get_packed_size(&response)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
          count = google__protobuf__compiler__code_generator_response__pack(
            &response, buffer.baseAddress)
        }
      }
    }
  }
}
