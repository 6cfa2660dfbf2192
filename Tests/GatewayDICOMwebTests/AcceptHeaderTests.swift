import GatewayDICOMweb
import Testing

@Suite struct AcceptHeaderTests {
    @Test func ohifFrameRequestUnquotedTypeAndAnyTransferSyntax() {
        let ranges = AcceptHeader.parse(["multipart/related; type=application/octet-stream; transfer-syntax=*"])
        #expect(ranges.count == 1)
        #expect(ranges[0].mediaType == "multipart/related")
        #expect(ranges[0].partType == "application/octet-stream")
        #expect(ranges[0].transferSyntax == "*")
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.jpegLossless) == [.asStored])
    }

    @Test func quotedTypeEqualsUnquotedType() {
        let quoted = AcceptHeader.parse(["multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.1"])
        let bare = AcceptHeader.parse(["multipart/related;type=application/dicom;transfer-syntax=1.2.840.10008.1.2.1"])
        #expect(quoted == bare)
        #expect(quoted[0].partType == "application/dicom")
        #expect(quoted[0].transferSyntax == "1.2.840.10008.1.2.1")
    }

    @Test func severalRangesSortedByQualityThenOrder() {
        let header = "multipart/related; type=\"image/jpeg\"; q=0.5, multipart/related; type=\"application/octet-stream\"; transfer-syntax=*, */*;q=0.1"
        let ranges = AcceptHeader.parse([header])
        #expect(ranges.map(\.partType) == ["application/octet-stream", "image/jpeg", nil])
        #expect(ranges.map(\.quality) == [1, 0.5, 0.1])
    }

    @Test func zeroQualityIsRefusalAndEmptyHeaderMeansAnything() {
        #expect(AcceptHeader.parse(["application/dicom+json;q=0"]).isEmpty)
        #expect(AcceptHeader.parse([]).map(\.mediaType) == ["*/*"])
        #expect(AcceptHeader.parse([""]).map(\.mediaType) == ["*/*"])
    }

    @Test func commaInsideQuotesDoesNotSplit() {
        let ranges = AcceptHeader.parse(["multipart/related; type=\"application/dicom\"; x=\"a,b\", image/jpeg"])
        #expect(ranges.count == 2)
        #expect(ranges[0].parameters["x"] == "a,b")
        #expect(ranges[1].mediaType == "image/jpeg")
    }

    @Test func headerSplitOverSeveralFieldLinesIsOneList() {
        let ranges = AcceptHeader.parse(["application/json", "application/dicom+json; q=0.9"])
        #expect(ranges.map(\.mediaType) == ["application/json", "application/dicom+json"])
    }

    @Test func garbageRangesAreSkipped() {
        #expect(AcceptHeader.parse(["nonsense, ;;, image/jpeg"]).map(\.mediaType) == ["image/jpeg"])
    }

    @Test func instanceRetrieveWithoutTransferSyntaxMeansExplicitLittleEndian() {
        let ranges = AcceptHeader.parse(["multipart/related; type=\"application/dicom\""])
        #expect(WADONegotiation.instances(ranges, stored: TransferSyntaxUID.explicitVRLittleEndian) == [.asStored])
        #expect(WADONegotiation.instances(ranges, stored: TransferSyntaxUID.jpegLossless)
            == [.transferSyntax(TransferSyntaxUID.explicitVRLittleEndian)])
    }

    @Test func instanceRetrieveFallsBackInPreferenceOrder() {
        let ranges = AcceptHeader.parse([
            "multipart/related; type=\"application/dicom\"; transfer-syntax=1.2.840.10008.1.2.4.50, multipart/related; type=\"application/dicom\"; transfer-syntax=*;q=0.5",
        ])
        #expect(WADONegotiation.instances(ranges, stored: TransferSyntaxUID.explicitVRLittleEndian)
            == [.transferSyntax(TransferSyntaxUID.jpegBaseline), .asStored])
    }

    @Test func wrongMediaTypesGiveNothingToSend() {
        let ranges = AcceptHeader.parse(["text/html"])
        #expect(WADONegotiation.instances(ranges, stored: TransferSyntaxUID.explicitVRLittleEndian).isEmpty)
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.explicitVRLittleEndian).isEmpty)
        #expect(!WADONegotiation.acceptsJSON(ranges))
        #expect(!WADONegotiation.acceptsJPEG(ranges))
        #expect(WADONegotiation.acceptsJPEG(AcceptHeader.parse(["image/*"])))
        #expect(WADONegotiation.acceptsJSON(AcceptHeader.parse(["application/dicom+json"])))
    }

    @Test func uncompressedFramesWithoutTransferSyntaxFromCompressedFileAreDecoded() {
        let ranges = AcceptHeader.parse(["multipart/related; type=application/octet-stream"])
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.jpegLossless)
            == [.transferSyntax(TransferSyntaxUID.explicitVRLittleEndian)])
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.implicitVRLittleEndian) == [.asStored])
    }

    @Test func jpegFramesDefaultToBaseline() {
        let ranges = AcceptHeader.parse(["multipart/related; type=\"image/jpeg\""])
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.jpegBaseline) == [.asStored])
        #expect(WADONegotiation.frames(ranges, stored: TransferSyntaxUID.explicitVRLittleEndian)
            == [.transferSyntax(TransferSyntaxUID.jpegBaseline)])
    }
}
