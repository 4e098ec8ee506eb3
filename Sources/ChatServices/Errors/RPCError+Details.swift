import ProtoBridge
import RPCCore
import StandardProtos

/// The `google.rpc` detail messages chatd attaches to errors.
enum ErrorDetail {
  case badRequest(Google_Rpc_BadRequest)
  case errorInfo(reason: String)
  case retryInfo(Duration)

  var any: Google_Protobuf_Any {
    var any = Google_Protobuf_Any()
    switch self {
    case .badRequest(let message):
      any.typeUrl = "type.googleapis.com/google.rpc.BadRequest"
      any.value = message.wireBytes()
    case .errorInfo(let reason):
      var info = Google_Rpc_ErrorInfo()
      info.reason = reason
      info.domain = "chatd"
      any.typeUrl = "type.googleapis.com/google.rpc.ErrorInfo"
      any.value = info.wireBytes()
    case .retryInfo(let delay):
      var duration = Google_Protobuf_Duration()
      let (seconds, attoseconds) = delay.components
      duration.seconds = seconds
      duration.nanos = Int32(attoseconds / 1_000_000_000)
      var info = Google_Rpc_RetryInfo()
      info.retryDelay = duration
      any.typeUrl = "type.googleapis.com/google.rpc.RetryInfo"
      any.value = info.wireBytes()
    }
    return any
  }
}

extension RPCError {
  /// An error whose trailers carry `grpc-status-details-bin`: a `google.rpc.Status` with the
  /// same code and message and one detail.
  static func withDetails(code: Status.Code, message: String, detail: ErrorDetail) -> RPCError {
    var status = Google_Rpc_Status()
    status.code = Int32(code.rawValue)
    status.message = message
    status.details = [detail.any]
    var metadata = Metadata()
    metadata.addBinary(status.wireBytes(), forKey: "grpc-status-details-bin")
    return RPCError(code: code, message: message, metadata: metadata)
  }
}
