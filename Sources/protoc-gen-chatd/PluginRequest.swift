internal import CProtobufC
internal import CProtocPlugin

/// A decoded CodeGeneratorRequest.
struct PluginRequest {
  var filesToGenerate: [String]
  var parameter: String
  /// Every file of the request (those to generate and everything they import), in
  /// topological order.
  var files: [FileDescriptor]

  struct DecodingError: Error, CustomStringConvertible {
    var description: String { "stdin is not a valid CodeGeneratorRequest" }
  }

  init(bytes: [UInt8]) throws {
    let unpacked = bytes.withUnsafeBufferPointer {
      google__protobuf__compiler__code_generator_request__unpack(nil, $0.count, $0.baseAddress)
    }
    guard let unpacked else { throw DecodingError() }
    defer { google__protobuf__compiler__code_generator_request__free_unpacked(unpacked, nil) }
    let request = unpacked.pointee
    filesToGenerate = Self.strings(request.file_to_generate, request.n_file_to_generate)
    parameter = Self.string(request.parameter)
    files = Self.buffer(request.proto_file, request.n_proto_file).map { Self.file($0!) }
  }

  private static func file(_ pointer: UnsafeMutablePointer<Google__Protobuf__FileDescriptorProto>)
    -> FileDescriptor
  {
    let file = pointer.pointee
    let package = string(file.package)
    let size = google__protobuf__file_descriptor_proto__get_packed_size(pointer)
    let serialized = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
      count = google__protobuf__file_descriptor_proto__pack(pointer, buffer.baseAddress)
    }
    return FileDescriptor(
      name: string(file.name),
      package: package,
      syntax: file.syntax == nil ? "proto2" : string(file.syntax),
      dependencies: strings(file.dependency, file.n_dependency),
      messages: buffer(file.message_type, file.n_message_type).enumerated().map {
        message($1!.pointee, scope: package, path: [4, Int32($0)])
      },
      enums: buffer(file.enum_type, file.n_enum_type).enumerated().map {
        enumeration($1!.pointee, scope: package, path: [5, Int32($0)])
      },
      services: buffer(file.service, file.n_service).enumerated().map {
        service($1!.pointee, scope: package, path: [6, Int32($0)])
      },
      comments: comments(file.source_code_info),
      serialized: serialized)
  }

  private static func message(
    _ message: Google__Protobuf__DescriptorProto, scope: String, path: [Int32]
  ) -> MessageDescriptor {
    let name = string(message.name)
    let fullName = qualified(scope, name)
    return MessageDescriptor(
      name: name,
      fullName: fullName,
      path: path,
      fields: buffer(message.field, message.n_field).enumerated().map {
        field($1!.pointee, path: path + [2, Int32($0)])
      },
      oneofs: buffer(message.oneof_decl, message.n_oneof_decl).map { string($0!.pointee.name) },
      messages: buffer(message.nested_type, message.n_nested_type).enumerated().map {
        self.message($1!.pointee, scope: fullName, path: path + [3, Int32($0)])
      },
      enums: buffer(message.enum_type, message.n_enum_type).enumerated().map {
        enumeration($1!.pointee, scope: fullName, path: path + [4, Int32($0)])
      },
      isMapEntry: message.options.map { $0.pointee.map_entry != 0 } ?? false)
  }

  private static func field(_ field: Google__Protobuf__FieldDescriptorProto, path: [Int32])
    -> FieldDescriptor
  {
    FieldDescriptor(
      name: string(field.name),
      number: field.number,
      label: FieldDescriptor.Label(rawValue: Int32(truncatingIfNeeded: field.label.rawValue))
        ?? .optional,
      kind: FieldDescriptor.Kind(rawValue: Int32(truncatingIfNeeded: field.type.rawValue))
        ?? .group,
      typeName: string(field.type_name),
      oneofIndex: field.has_oneof_index != 0 ? Int(field.oneof_index) : nil,
      isProto3Optional: field.proto3_optional != 0,
      path: path)
  }

  private static func enumeration(
    _ enumeration: Google__Protobuf__EnumDescriptorProto, scope: String, path: [Int32]
  ) -> EnumDescriptor {
    let name = string(enumeration.name)
    return EnumDescriptor(
      name: name,
      fullName: qualified(scope, name),
      path: path,
      values: buffer(enumeration.value, enumeration.n_value).enumerated().map {
        (string($1!.pointee.name), $1!.pointee.number, path + [2, Int32($0)])
      })
  }

  private static func service(
    _ service: Google__Protobuf__ServiceDescriptorProto, scope: String, path: [Int32]
  ) -> ServiceDescriptor {
    let name = string(service.name)
    return ServiceDescriptor(
      name: name,
      fullName: qualified(scope, name),
      path: path,
      methods: buffer(service.method, service.n_method).enumerated().map {
        let method = $1!.pointee
        return MethodDescriptor(
          name: string(method.name),
          inputType: string(method.input_type),
          outputType: string(method.output_type),
          clientStreaming: method.client_streaming != 0,
          serverStreaming: method.server_streaming != 0,
          path: path + [2, Int32($0)])
      })
  }

  private static func comments(_ info: UnsafeMutablePointer<Google__Protobuf__SourceCodeInfo>?)
    -> [[Int32]: String]
  {
    guard let info else { return [:] }
    var comments: [[Int32]: String] = [:]
    for location in buffer(info.pointee.location, info.pointee.n_location) {
      let location = location!.pointee
      guard location.leading_comments != nil else { continue }
      let path = Array(UnsafeBufferPointer(start: location.path, count: location.n_path))
      comments[path] = string(location.leading_comments)
    }
    return comments
  }

  private static func qualified(_ scope: String, _ name: String) -> String {
    scope.isEmpty ? name : "\(scope).\(name)"
  }

  private static func string(_ cString: UnsafePointer<CChar>?) -> String {
    cString.map { String(cString: $0) } ?? ""
  }

  private static func strings(
    _ elements: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ count: Int
  )
    -> [String]
  {
    buffer(elements, count).map { string($0) }
  }

  private static func buffer<T>(_ elements: UnsafeMutablePointer<T>?, _ count: Int)
    -> UnsafeBufferPointer<T>
  {
    UnsafeBufferPointer(start: elements, count: elements == nil ? 0 : count)
  }
}
