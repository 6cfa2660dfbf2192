import Foundation
import GatewayAudit
import Testing

/// RFC 5424 headers and RFC 5425 framing of audit messages.
@Suite struct SyslogMessageTests {
    @Test func headerHasPriVersionTimestampHostAppProcMsgIdNilSDAndBOM() throws {
        let format = SyslogFormat(facility: 10, hostname: "gw 1.example", processID: "4242")
        let time = Date(timeIntervalSince1970: 1_800_000_000.25)
        let message = AuditMessage.applicationActivity(started: true, gateway: AuditNode(userID: "4242", host: "gw1"),
                                                       source: AuditSource(id: "gw1"), at: time)
        let data = format.message(message)
        let bom = try #require(data.firstRange(of: Data([0xEF, 0xBB, 0xBF])))
        let header = String(decoding: data[..<bom.lowerBound], as: UTF8.self)
        #expect(header == "<85>1 2027-01-15T08:00:00.250Z gw1.example dicom-gateway 4242 DICOM+RFC3881 - ")
        #expect(String(decoding: data[bom.upperBound...], as: UTF8.self) == message.xml())
        let failed = format.message(xml: "<AuditMessage/>", outcome: .seriousFailure, at: time)
        #expect(String(decoding: failed.prefix(4), as: UTF8.self) == "<83>")
        #expect(SyslogFormat(facility: 13, hostname: "").message(xml: "", outcome: .majorFailure, at: time).starts(with: Data("<106>1 ".utf8)))
        #expect(String(decoding: SyslogFormat(hostname: "").message(xml: "", outcome: .success, at: time), as: UTF8.self)
            .contains("Z - dicom-gateway "))
    }

    @Test func octetCountingPrefixesTheByteCountNotTheCharacterCount() {
        let message = Data("<85>1 - - - - - - \u{FEFF}é".utf8)
        let framed = SyslogFormat.octetCounted(message)
        #expect(framed == Data("\(message.count) ".utf8) + message)
        #expect(message.count == 23)
    }
}
