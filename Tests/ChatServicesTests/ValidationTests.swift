import Testing

@testable import ChatServices

@Suite struct ValidationTests {
  @Test func textRules() {
    var validation = Validation()
    validation.text("  \n", field: "a", limit: 10, required: true)
    validation.text("12345678901", field: "b", limit: 10, required: true)
    validation.text("tab\tand\nnewline", field: "c", limit: 100, required: true)
    validation.text("bell\u{07}", field: "d", limit: 100, required: true)
    validation.text("sep\u{2028}", field: "e", limit: 100, required: true)
    validation.text("", field: "f", limit: 100, required: false)
    #expect(validation.violations.map(\.field) == ["a", "b", "d", "e"])
  }

  @Test func idsAndPages() {
    var validation = Validation()
    validation.userID("ok-user", field: "a")
    validation.userID("has space", field: "b")
    validation.userID("", field: "c")
    validation.uuid("6f1c1f34-1b7e-4d7a-9c1e-2f6a8f0b9a11", field: "d")
    validation.uuid("nope", field: "e")
    #expect(validation.pageSize(0) == 50)
    #expect(validation.pageSize(200) == 200)
    _ = validation.pageSize(201, field: "f")
    #expect(validation.pageToken("") == nil)
    _ = validation.pageToken("bad token", field: "g")
    #expect(validation.violations.map(\.field) == ["b", "c", "e", "f", "g"])
    #expect(throws: ValidationError.self) { try validation.check() }
  }

  @Test func validationErrorCarriesBadRequestDetails() {
    let error = ValidationError(field: "body", "must not be empty").rpcError
    #expect(error.code == .invalidArgument)
    #expect(error.message == "invalid request: body must not be empty")
    #expect(error.metadata.firstBinary(forKey: "grpc-status-details-bin")?.isEmpty == false)
  }
}
