import DicomCore
import Testing

/// AE titles (PS3.5 VR AE) and `AE@HOST:PORT` node addresses.
@Suite struct AETitleAndNodeTests {
    @Test func sixteenCharactersAreAllowedAndPaddingIsNotSignificant() throws {
        #expect(try AETitle(String(repeating: "A", count: 16)).value == String(repeating: "A", count: 16))
        let padded = "  NETGW  ", inner = "PACS_A-1 B", plain = "NETGW", trailing = "NETGW "
        #expect(try AETitle(padded).value == "NETGW")
        #expect(try AETitle(inner).value == "PACS_A-1 B")
        #expect(try AETitle(plain) == AETitle(trailing))
    }

    @Test(arguments: [String(repeating: "A", count: 17), "", "    ", "AE\\B", "AE\u{0}B", "AE\tB", "AE\nB", "ÄRZTE", "AE\u{7F}"])
    func invalidAETitlesAreRejected(_ text: String) {
        #expect(throws: DicomValueError.self, "'\(UID.printable(text))' must be rejected") { try AETitle(text) }
    }

    @Test func seventeenCharacterTitleErrorSaysWhy() {
        do {
            _ = try AETitle(String(repeating: "B", count: 17))
            Issue.record("17 characters must be rejected")
        } catch {
            #expect(error.message.contains("longer than 16"))
        }
    }

    @Test func nodeParsesAETitleHostAndPort() throws {
        let node = try DicomNode(parsing: "AE@127.0.0.1:104")
        #expect(node.aeTitle == "AE")
        #expect(node.host == "127.0.0.1")
        #expect(node.port == 104)
        #expect(node.description == "AE@127.0.0.1:104")
        #expect(try DicomNode(parsing: node.description) == node)
    }

    @Test func bracketedIPv6HostIsUnwrapped() throws {
        let node = try DicomNode(parsing: "PACS@[::1]:11112")
        #expect(node.host == "::1")
        #expect(node.port == 11112)
    }

    @Test(arguments: ["AE@127.0.0.1:0", "AE@127.0.0.1:65536", "AE@127.0.0.1:port", "AE@127.0.0.1:", "AE@127.0.0.1:-1",
                      "AE@127.0.0.1:10 4", "AE@127.0.0.1:99999999999999999999"])
    func badPortIsRejected(_ text: String) {
        #expect(throws: DicomValueError.self, "'\(text)' must be rejected") { try DicomNode(parsing: text) }
    }

    @Test(arguments: ["AE127.0.0.1:104", "127.0.0.1:104", "AE@127.0.0.1", "AE:104@127.0.0.1", "AE@:104", "@127.0.0.1:104",
                      "TOOLONGAETITLE_XYZ@127.0.0.1:104", ""])
    func malformedNodeIsRejected(_ text: String) {
        #expect(throws: DicomValueError.self, "'\(text)' must be rejected") { try DicomNode(parsing: text) }
    }
}
