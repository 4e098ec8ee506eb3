public import RPCCore
import StandardProtos

/// One thing wrong with one field of a request.
public struct FieldViolation: Sendable, Hashable {
  /// The field's path in the request, as protobuf names it: `user_id`, `member_user_ids[2]`.
  public var field: String
  public var description: String
}

/// A request that breaks the API's rules: INVALID_ARGUMENT with a `google.rpc.BadRequest`
/// listing every violation.
public struct ValidationError: Error, Sendable, Hashable, RPCErrorConvertible {
  public var violations: [FieldViolation]

  init(_ violations: [FieldViolation]) { self.violations = violations }

  init(field: String, _ description: String) {
    self.init([FieldViolation(field: field, description: description)])
  }

  public var rpcError: RPCError {
    var badRequest = Google_Rpc_BadRequest()
    badRequest.fieldViolations = violations.map {
      var violation = Google_Rpc_BadRequest.FieldViolation()
      violation.field = $0.field
      violation.description = $0.description
      return violation
    }
    let message = violations.map { "\($0.field) \($0.description)" }.joined(separator: "; ")
    return RPCError.withDetails(
      code: .invalidArgument, message: "invalid request: \(message)",
      detail: .badRequest(badRequest))
  }
}
