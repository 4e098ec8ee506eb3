import RPCCore
import Testing

@Suite struct PeerIdentityTests {
  @Test func theCommonNameNamesThePrincipal() {
    let identity = PeerIdentity(commonName: "indexer", subjectAlternativeNames: ["a.example"])
    #expect(identity.name == "indexer")
  }

  @Test func withoutCommonNameTheFirstSubjectAltNameDoes() {
    let identity = PeerIdentity(
      commonName: nil, subjectAlternativeNames: ["spiffe://chatd/search", "b.example"])
    #expect(identity.name == "spiffe://chatd/search")
    #expect(PeerIdentity(commonName: "", subjectAlternativeNames: ["c"]).name == "c")
    #expect(PeerIdentity(commonName: nil, subjectAlternativeNames: []).name == nil)
  }
}
