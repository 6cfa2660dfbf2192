import DicomCore
import DicomNetwork
import Foundation
import Testing

/// `DicomFile.readAttributes` is on the ingest path of every C-STORE: it must return the
/// top-level string attributes and leave binary values (pixel data above all) alone.
@Suite struct DicomFileAttributesTests {
    @Test func readAttributesReturnsStringsAndNoPixelData() throws {
        let dir = TestDirectory("attrs")
        let file = try TestData.study(in: dir.path, count: 1, studyUID: "1.2.826.0.1.3680043.8.1055.9.5", patientID: "PIDX",
                                      rows: 64, columns: 64)[0]
        let attributes = try DicomFile.readAttributes(file)
        #expect(attributes.string(.studyInstanceUID) == "1.2.826.0.1.3680043.8.1055.9.5")
        #expect(attributes.string(.patientID) == "PIDX")
        #expect(attributes.string(.modality) == "CT")
        #expect(attributes.string(.transferSyntaxUID) == TransferSyntax.explicitVRLittleEndian)
        let pixelData = attributes[DicomTag(0x7FE0, 0x0010)]
        #expect(pixelData == nil, "pixel data rendered as text (\(pixelData?.utf8.count ?? 0) characters)")
        let longest = attributes.map { $0.value.utf8.count }.max() ?? 0
        #expect(longest < 1024, "an attribute of \(longest) characters: binary data rendered as text")
    }
}
