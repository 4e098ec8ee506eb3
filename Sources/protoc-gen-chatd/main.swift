// protoc-gen-chatd: reads a CodeGeneratorRequest on stdin, writes a CodeGeneratorResponse
// on stdout. See Generator.swift for the parameters.
#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

func readStandardInput() -> [UInt8] {
  var bytes: [UInt8] = []
  var chunk = [UInt8](repeating: 0, count: 65536)
  while true {
    let count = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
    if count <= 0 { break }
    bytes.append(contentsOf: chunk[0..<count])
  }
  return bytes
}

func writeStandardOutput(_ bytes: [UInt8]) {
  var offset = 0
  while offset < bytes.count {
    let written = bytes[offset...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
    if written <= 0 { exit(1) }
    offset += written
  }
}

var response = PluginResponse()
do {
  let request = try PluginRequest(bytes: readStandardInput())
  let options = try GeneratorOptions(parameter: request.parameter)
  response.files = try Generator(request: request, options: options).run()
} catch {
  response.error = "\(error)"
}
writeStandardOutput(response.serialized())
