import DicomCore
import Testing

/// DIMSE status categories (PS3.7 Annex C): what callers branch on.
@Suite struct DIMSEStatusTests {
    @Test(arguments: [
        (UInt16(0x0000), DIMSEStatus.Category.success),
        (0xFF00, .pending), (0xFF01, .pending),
        (0xFE00, .cancel),
        (0xB000, .warning), (0xB007, .warning), (0x0001, .warning), (0x0107, .warning), (0x0116, .warning),
        (0xA801, .failure), (0xA700, .failure), (0xA900, .failure), (0xC000, .failure), (0xC211, .failure),
        (0x0122, .failure), (0x0124, .failure), (0x0110, .failure), (0x0111, .failure),
    ])
    func codeMapsToItsCategory(_ code: UInt16, _ category: DIMSEStatus.Category) {
        #expect(DIMSEStatus(code).category == category, "\(DIMSEStatus(code).hex)")
    }

    @Test func onlySuccessIsSuccess() {
        #expect(DIMSEStatus.success.isSuccess)
        for code: UInt16 in [0xFF00, 0xFE00, 0xB000, 0xA801, 0xC000] {
            #expect(!DIMSEStatus(code).isSuccess, "\(DIMSEStatus(code).hex)")
        }
        #expect(DIMSEStatus.pending.isPending && !DIMSEStatus.pending.isFailure)
        #expect(DIMSEStatus.moveDestinationUnknown.isFailure && !DIMSEStatus.moveDestinationUnknown.isPending)
        #expect(!DIMSEStatus.subOperationsCompleteWithFailures.isFailure)
        #expect(!DIMSEStatus.cancelled.isFailure && !DIMSEStatus.cancelled.isSuccess)
    }

    @Test func descriptionNamesTheStatusAndItsHexCode() {
        #expect(DIMSEStatus(0xA801).description == "refused: move destination unknown (0xA801)")
        #expect(DIMSEStatus(0xB000).description.contains("0xB000"))
        #expect(DIMSEStatus(0xC0FE).description == "error: cannot understand (0xC0FE)")
        #expect(DIMSEStatus(0xFF01).hex == "0xFF01")
        #expect(DIMSEStatus(0x0000).hex == "0x0000")
    }

    @Test func priorityCodesFollowPS37() {
        #expect(DIMSEPriority.high.code == 0x0001)
        #expect(DIMSEPriority.medium.code == 0x0000)
        #expect(DIMSEPriority.low.code == 0x0002)
        for p in DIMSEPriority.allCases { #expect(DIMSEPriority(code: p.code) == p) }
    }
}
