import GatewayConfig
import Testing

/// The `dicomweb:` section's `public_url`: the base of absolute BulkDataURIs behind a proxy.
@Suite struct DicomWebConfigTests {
    @Test func withoutPublicURLTheBaseIsTheRoot() throws {
        let settings = try parse("dicomweb: { root: /web }").dicomweb
        #expect(settings.publicURL == nil)
        #expect(settings.base == "/web")
        #expect(try parse("").dicomweb.base == "/dicom-web")
    }

    @Test func dicomwebIsOnByDefaultAndCanBeTurnedOff() throws {
        #expect(try parse("").dicomweb.enabled)
        #expect(try parse("dicomweb: { enabled: false }").dicomweb.enabled == false)
        let d = singleDiagnostic("dicomweb:\n  enabled: sometimes\n")
        #expect(d?.line == 2, "\(String(describing: d))")
    }

    @Test func publicURLPrefixesTheRoot() throws {
        let settings = try parse("dicomweb: { public_url: https://pacs.example.nhs.uk:8443 }").dicomweb
        #expect(settings.publicURL == "https://pacs.example.nhs.uk:8443")
        #expect(settings.base == "https://pacs.example.nhs.uk:8443/dicom-web")
    }

    @Test(arguments: ["pacs.example.org", "ftp://pacs.example.org", "https://pacs.example.org/", "https://pacs.example.org?x=1", "https://"])
    func aPublicURLThatIsNotOneIsRefusedWhereItIsWritten(_ url: String) {
        let yaml = "dicomweb:\n  public_url: \"\(url)\"\n"
        let d = singleDiagnostic(yaml)
        #expect(d?.message.contains("public_url must be an http or https URL") == true, "\(String(describing: d))")
        #expect(d?.line == 2 && d?.column == 15, "\(String(describing: d))")
    }

    @Test func corsOriginsAreNoneByDefaultAndListedOriginsOtherwise() throws {
        #expect(try parse("").dicomweb.corsOrigins.isEmpty)
        let settings = try parse("dicomweb: { cors_origins: [\"https://viewer.example.org\", \"http://localhost:3000\"] }").dicomweb
        #expect(settings.corsOrigins == ["https://viewer.example.org", "http://localhost:3000"])
        #expect(try parse("dicomweb: { cors_origins: [\"*\"] }").dicomweb.corsOrigins == ["*"])
    }

    @Test(arguments: ["https://viewer.example.org/", "viewer.example.org", "https://viewer.example.org/app"])
    func aCORSOriginThatIsNotAnOriginIsRefusedWhereItIsWritten(_ origin: String) {
        let d = singleDiagnostic("dicomweb:\n  cors_origins: [\"\(origin)\"]\n")
        #expect(d?.message.contains("cors_origins entries are origins") == true, "\(String(describing: d))")
        #expect(d?.line == 2, "\(String(describing: d))")
    }
}
