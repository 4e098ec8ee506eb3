public import RPCCore

/// The descriptors reflection serves, indexed by file name and by symbol.
public struct ReflectionIndex: Sendable {
  private let files: [String: ProtoFileDescriptor]
  private let fileBySymbol: [String: String]
  /// Services listed by `list_services`.
  public let serviceNames: [String]

  public init(files: [ProtoFileDescriptor], serviceNames: [String]) {
    var byName: [String: ProtoFileDescriptor] = [:]
    var bySymbol: [String: String] = [:]
    for file in files {
      byName[file.name] = file
      for symbol in file.symbols { bySymbol[symbol] = file.name }
    }
    self.files = byName
    self.fileBySymbol = bySymbol
    self.serviceNames = serviceNames.sorted()
  }

  /// The file, then every file it depends on, transitively, each once, skipping those this
  /// stream already sent (as reflection clients expect).
  func fileWithDependencies(_ name: String, alreadySent: inout Set<String>) -> [[UInt8]]? {
    guard files[name] != nil else { return nil }
    var result: [[UInt8]] = []
    var queue = [name]
    while let next = queue.popLast() {
      guard let file = files[next], alreadySent.insert(next).inserted || next == name else {
        continue
      }
      result.append(file.serialized)
      queue.append(contentsOf: file.dependencies)
    }
    return result
  }

  /// The file that defines a symbol: a service, method, message, enum, or a member of one.
  func fileName(containing symbol: String) -> String? {
    var candidate = Substring(symbol)
    while !candidate.isEmpty {
      if let file = fileBySymbol[String(candidate)] { return file }
      guard let dot = candidate.lastIndex(of: ".") else { return nil }
      candidate = candidate[..<dot]
    }
    return nil
  }

  func knowsType(_ name: String) -> Bool { fileBySymbol[name] != nil }
}

/// One reflection request, in the terms both protocol versions share.
enum ReflectionQuery {
  case fileByName(String)
  case fileContainingSymbol(String)
  case fileContainingExtension(type: String, number: Int32)
  case extensionNumbers(ofType: String)
  case listServices
  case unset
}

/// One reflection answer, in the terms both protocol versions share.
enum ReflectionAnswer {
  case files([[UInt8]])
  case extensionNumbers(type: String, numbers: [Int32])
  case services([String])
  case error(code: Status.Code, message: String)
}

extension ReflectionIndex {
  func answer(_ query: ReflectionQuery, alreadySent: inout Set<String>) -> ReflectionAnswer {
    switch query {
    case .fileByName(let name):
      guard let files = fileWithDependencies(name, alreadySent: &alreadySent) else {
        return .error(code: .notFound, message: "file not found: \(name)")
      }
      return .files(files)
    case .fileContainingSymbol(let symbol):
      guard let name = fileName(containing: symbol),
        let files = fileWithDependencies(name, alreadySent: &alreadySent)
      else {
        return .error(code: .notFound, message: "symbol not found: \(symbol)")
      }
      return .files(files)
    case .fileContainingExtension(let type, let number):
      return .error(code: .notFound, message: "extension not found: \(type)(\(number))")
    case .extensionNumbers(let type):
      guard knowsType(type) else {
        return .error(code: .notFound, message: "type not found: \(type)")
      }
      return .extensionNumbers(type: type, numbers: [])
    case .listServices:
      return .services(serviceNames)
    case .unset:
      return .error(code: .invalidArgument, message: "the request names no query")
    }
  }
}
