/// Options from `--chatd_out=Module=ChatProtos,Import=StandardProtos:DIR`.
struct GeneratorOptions {
  /// The Swift module the generated files belong to (names the descriptors file).
  var module = "Generated"
  /// `public` (default), `package` or `internal`.
  var visibility = "public "
  /// The C module holding protoc-c's output for these files.
  var cModule = "CProtoWire"
  /// Swift modules holding generated types of imported files not generated here.
  var imports: [String] = []

  struct InvalidParameter: Error, CustomStringConvertible {
    var description: String
  }

  init(parameter: String) throws {
    for pair in parameter.split(separator: ",") where !pair.isEmpty {
      let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { throw InvalidParameter(description: "bad parameter \(pair)") }
      switch parts[0] {
      case "Module": module = parts[1]
      case "Visibility":
        guard ["public", "package", "internal"].contains(parts[1]) else {
          throw InvalidParameter(description: "Visibility must be public, package or internal")
        }
        visibility = parts[1] + " "
      case "CModule": cModule = parts[1]
      case "Import": imports.append(parts[1])
      default: throw InvalidParameter(description: "unknown parameter \(parts[0])")
      }
    }
  }
}

/// Turns a request into response files.
struct Generator {
  let request: PluginRequest
  let options: GeneratorOptions

  func run() throws -> [(name: String, content: String)] {
    let registry = TypeRegistry(files: request.files)
    let wanted = Set(request.filesToGenerate)
    let files = request.files.filter { wanted.contains($0.name) }
    for file in files where file.syntax != "proto3" {
      throw GeneratorOptions.InvalidParameter(
        description: "\(file.name): only proto3 is supported (syntax \(file.syntax))")
    }
    let emitter = FileEmitter(registry: registry, options: options, localFiles: wanted)
    let names = outputNames(files.map(\.name))
    var output = files.map { (name: names[$0.name]!, content: emitter.emit($0)) }
    let descriptors = DescriptorEmitter(module: options.module, visibility: options.visibility)
    output.append((name: "\(options.module)Descriptors.swift", content: descriptors.emit(files)))
    return output
  }

  /// `chat/v1/room.proto` -> `chat/v1/room.chatd.swift`; when two files share a base name
  /// (swiftc rejects that within a module) parent folder names are prepended:
  /// `grpc/reflection/v1alpha/v1alpha_reflection.chatd.swift`.
  func outputNames(_ protoNames: [String]) -> [String: String] {
    func stem(_ name: String) -> [Substring] {
      let withoutExtension = name.hasSuffix(".proto") ? String(name.dropLast(6)) : name
      return withoutExtension.split(separator: "/")
    }
    var result: [String: String] = [:]
    for name in protoNames {
      let components = stem(name)
      var depth = 1
      func base(_ components: [Substring], _ depth: Int) -> String {
        components.suffix(depth).joined(separator: "_")
      }
      while depth < components.count,
        protoNames.contains(where: { other in
          other != name && base(stem(other), depth) == base(components, depth)
        })
      {
        depth += 1
      }
      let folder = components.dropLast().joined(separator: "/")
      let file = base(components, depth) + ".chatd.swift"
      result[name] = folder.isEmpty ? file : folder + "/" + file
    }
    return result
  }
}
