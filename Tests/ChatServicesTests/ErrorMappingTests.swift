import ChatStore
import RPCCore
import StandardProtos
import Testing

@testable import ChatServices

@Suite struct ErrorMappingTests {
  @Test(arguments: [
    (StoreError.Kind.unavailable, Status.Code.unavailable),
    (.timeout, .unavailable),
    (.retry, .aborted),
    (.conflict, .alreadyExists),
    (.notFound, .notFound),
    (.permissionDenied, .permissionDenied),
    (.invalidInput, .invalidArgument),
    (.internalError, .internalError),
  ])
  func storeErrorsMapToOneCodeEach(kind: StoreError.Kind, code: Status.Code) {
    let error = RPCError.from(
      StoreError(kind, sqlState: "XX000", serverMessage: "secret row data"))
    #expect(error.code == code)
    #expect(!error.message.contains("secret"))
    #expect(!error.message.contains("XX000"))
  }

  @Test func detailsAreAGoogleRPCStatus() throws {
    let error = RPCError.from(StoreError(.unavailable))
    let bytes = try #require(error.metadata.firstBinary(forKey: "grpc-status-details-bin"))
    let status = try Google_Rpc_Status(wireBytes: bytes)
    #expect(status.code == 14)
    #expect(status.message == error.message)
    let detail = try #require(status.details.first)
    #expect(detail.typeUrl == "type.googleapis.com/google.rpc.ErrorInfo")
    let info = try Google_Rpc_ErrorInfo(wireBytes: detail.value)
    #expect(info.reason == "DATABASE_UNAVAILABLE")
    #expect(info.domain == "chatd")
  }

  @Test func validationErrorsListEveryViolation() throws {
    let error = ValidationError([
      FieldViolation(field: "body", description: "must not be empty"),
      FieldViolation(field: "room_id", description: "is required"),
    ]).rpcError
    #expect(error.code == .invalidArgument)
    let bytes = try #require(error.metadata.firstBinary(forKey: "grpc-status-details-bin"))
    let status = try Google_Rpc_Status(wireBytes: bytes)
    let detail = try #require(status.details.first)
    #expect(detail.typeUrl == "type.googleapis.com/google.rpc.BadRequest")
    let badRequest = try Google_Rpc_BadRequest(wireBytes: detail.value)
    #expect(badRequest.fieldViolations.map(\.field) == ["body", "room_id"])
  }

  @Test func authenticationErrorsAreUnauthenticated() {
    let error = RPCError.from(AuthenticationError("invalid signature"))
    #expect(error.code == .unauthenticated)
    #expect(error.message == "unauthenticated: invalid signature")
  }
}
