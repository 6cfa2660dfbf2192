import DicomCore
import Testing

/// `UID.isValid` is what keeps wire-supplied UIDs out of file names, so it must be strict.
@Suite struct UIDValidationTests {
    @Test(arguments: ["1.2.3", "1", "0", "1.2.840.10008.5.1.4.1.1.2", String(repeating: "1", count: 64),
                      "1." + String(repeating: "2", count: 62)])
    func wellFormedUIDsAreAccepted(_ text: String) {
        #expect(UID.isValid(text), "'\(text)' (\(text.utf8.count) chars) must be valid")
    }

    @Test(arguments: ["", "../1", "..", ".", "1..2", ".1", "1.", "1.2/3", "a/b", "1.2\u{0}3", "1.2.3\u{0}",
                      "1.2 .3", " 1.2", "1.2.a", "1,2", "1.2\\3", "１.２", "1.2.3\n",
                      String(repeating: "1", count: 65), "1." + String(repeating: "2", count: 63),
                      String(repeating: "9", count: 200)])
    func malformedOrHostileUIDsAreRejected(_ text: String) {
        #expect(!UID.isValid(text), "'\(UID.printable(text))' must be invalid")
    }

    @Test func initTrimsDicomPaddingButKeepsValidation() throws {
        // Variables, not literals: `UID("literal")` is literal coercion (SE-0213) and traps instead of throwing.
        let padded = "1.2.3 ", nulPadded = "1.2.3\u{0}", hostile = "../../etc/passwd", blank = "   "
        #expect(try UID(padded).value == "1.2.3")
        #expect(try UID(nulPadded).value == "1.2.3")
        #expect(throws: DicomValueError.self) { try UID(hostile) }
        #expect(throws: DicomValueError.self) { try UID(blank) }
    }

    @Test func printableFormHidesControlCharactersAndLength() {
        #expect(UID.printable("1.2\u{0}3\n") == "1.2?3?")
        let long = UID.printable(String(repeating: "7", count: 200))
        #expect(long.hasSuffix("..."))
        #expect(long.count == 83)
    }
}
