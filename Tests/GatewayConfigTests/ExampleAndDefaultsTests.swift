import DicomCore
import Foundation
import Testing
import GatewayConfig

@Suite struct ExampleAndDefaultsTests {
    @Test func exampleFileParsesWithItsDocumentedValues() throws {
        let url = repositoryRoot.appendingPathComponent("etc/gateway.example.yaml")
        let config = try GatewayConfiguration.load(contentsOf: url)
        #expect(config.gateway.aeTitle == "NETGW")
        #expect(config.gateway.port == 11112)
        #expect(config.gateway.bind == "127.0.0.1")
        #expect(config.gateway.dimseTimeout == .seconds(60))
        #expect(config.storage.path == repositoryRoot.appendingPathComponent("etc/var/dicom-gateway").standardizedFileURL)
        #expect(config.storage.retention == RetentionPolicy(maxSize: .gigabytes(500), maxAgeDays: 30))
        #expect(config.nodes.map(\.name) == ["TRUST_A", "TRUST_B", "HUB"])
        let hub = try #require(config.node(named: "HUB"))
        #expect(hub.roles == [.destination, .reporter])
        #expect(hub.address == DicomNode(aeTitle: "HUB_READ", host: "127.0.0.1", port: 11113))
        #expect(config.node(forCallingAE: "TRUSTB_PACS")?.issuer == "RGT")
        #expect(hub.reporting == ReporterSettings(skills: ["neuro", "general"], capacity: 10))
        #expect(config.reporting.deadlines == ReportingSettings().deadlines)
        #expect(config.reporting.escalateAt == 0.75 && config.reporting.prefer == .none && config.reporting.webhook == nil)
        #expect(config.reporting.rules.map(\.name) == ["stroke", "imaging"])
        #expect(hub.permissions == Set(NodePermission.allCases))
        #expect(hub.access.moveDestinations == ["HUB", "TRUST_A"])
        #expect(hub.access.hosts?.map(\.description) == ["127.0.0.1", "::1", "127.0.0.0/8"])
        #expect(config.gateway.acceptUnknownCallers == nil && config.gateway.unknownCallersAllow == nil)
    }

    @Test func networkExampleIsACompleteValidNetwork() throws {
        let config = try GatewayConfiguration.load(contentsOf: repositoryRoot.appendingPathComponent("etc/network.example.yaml"))
        #expect(config.nodes.map(\.name) == ["TRUST_A", "TRUST_B", "NEURO_HUB", "GENERAL_HUB"])
        #expect(config.node(named: "TRUST_B")?.pull?.interval == .seconds(300))
        #expect(config.node(named: "TRUST_B")?.pull?.filters[.modalitiesInStudy] == "CT\\MR")
        #expect(config.node(named: "GENERAL_HUB")?.federatedQuery == true)
        #expect(config.identity.patientID == .prefix)
        #expect(config.priors.count == 2)
        #expect(config.routes.map(\.name) == ["test-patients", "no-patient-id", "reports-home"])
        #expect(config.nodes.allSatisfy { $0.host == "127.0.0.1" })
        #expect(config.node(named: "NEURO_HUB")?.reporting == ReporterSettings(
            skills: ["neuro"], capacity: 12, hours: TimeWindow(parsing: "08:00-20:00"), organisation: "RTH"))
        #expect(config.node(named: "GENERAL_HUB")?.reporting == ReporterSettings(
            skills: ["chest", "msk", "general"], capacity: 40, organisation: "RGT"))
        let reporting = config.reporting
        #expect(reporting.prefer == .origin && reporting.escalateAt == 0.75 && reporting.grace == .seconds(1800))
        #expect(reporting.orphanAfter == .seconds(14 * 86_400))
        #expect(reporting.webhook == URL(string: "http://127.0.0.1:9000/hooks/reporting"))
        #expect(reporting.rules.map(\.name) == ["stroke", "head", "chest", "msk", "images"])
        #expect(reporting.rules.map(\.skill) == ["neuro", "neuro", "chest", "msk", "general"])
        #expect(reporting.rules[0].deadline == .seconds(1800) && reporting.rules[0].priorityClass == .stat)
        #expect(reporting.rules[2].effort == 0.2)
    }

    @Test func exampleFileUsesOnlyLoopbackAddresses() throws {
        let config = try GatewayConfiguration.load(contentsOf: repositoryRoot.appendingPathComponent("etc/gateway.example.yaml"))
        #expect(config.gateway.bind == "127.0.0.1")
        #expect(config.nodes.allSatisfy { $0.host == "127.0.0.1" })
    }

    @Test(arguments: ["", "{}", "# only a comment\n", "---\n", "gateway:\nstorage: ~\nnodes: {}\n"])
    func emptyConfigurationGivesEmbeddedDefaults(yaml: String) throws {
        let config = try parse(yaml)
        #expect(config == GatewayConfiguration(baseDirectory: testBase))
        #expect(config.gateway.aeTitle == "NETGW")
        #expect(config.gateway.port == 11112)
        #expect(config.gateway.bind == "127.0.0.1")
        #expect(config.gateway.maxAssociations == 32)
        #expect(config.gateway.maxPDU == 131_072)
        #expect(config.gateway.acceptUnknownCallers == nil && config.gateway.acceptsUnknownCallers)
        #expect(config.storage.path.path == "/srv/gateway/var/dicom-gateway")
        #expect(config.storage.indexPath.path == "/srv/gateway/var/dicom-gateway/index.sqlite")
        #expect(config.storage.duplicates == .keep)
        #expect(config.storage.minFreeSpace == .gigabytes(1))
        #expect(!config.storage.retention.isEnabled)
        #expect(config.logging == LoggingSettings())
        #expect(config.logging.level == .info && config.logging.dcmtkLevel == .warning && !config.logging.patientData)
        #expect(config.nodes.isEmpty)
    }

    @Test func embeddedDefaultStoresUnderTheCurrentDirectory() {
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let config = GatewayConfiguration.embeddedDefault
        #expect(config.storage.path == cwd.appendingPathComponent("var/dicom-gateway").standardizedFileURL)
        #expect(config.gateway.aeTitle == "NETGW")
    }

    @Test func relativeStoragePathResolvesAgainstTheConfigFileDirectory() throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("gateway.yaml")
        try "storage:\n  path: ../cache/dicom\n  index: db/index.sqlite\n".write(to: file, atomically: true, encoding: .utf8)

        let config = try GatewayConfiguration.load(contentsOf: file)

        let expected = directory.deletingLastPathComponent().appendingPathComponent("cache/dicom").standardizedFileURL
        #expect(config.storage.path == expected)
        #expect(config.storage.indexPath == expected.appendingPathComponent("db/index.sqlite"))
    }

    @Test func absolutePathsAreKeptAsWritten() throws {
        let config = try parse("storage:\n  path: /data/dicom\n  index: /var/lib/gw/index.sqlite\n")
        #expect(config.storage.path.path == "/data/dicom")
        #expect(config.storage.indexPath.path == "/var/lib/gw/index.sqlite")
    }

    @Test func everySettingIsRead() throws {
        let config = try parse("""
            gateway: { ae_title: GW1, port: 104, bind: "::", max_associations: 4, max_pdu: 16384,
                       dimse_timeout: 5, acse_timeout: 6, accept_unknown_callers: no }
            storage: { duplicates: REJECT, min_free_space: 1.5 GB, retention: { max_size: 10TB } }
            logging: { level: debug, dcmtk_level: error, format: json, patient_data: true }
            """)
        let expected: GatewaySettings = {
            var g = GatewaySettings()
            g.aeTitle = "GW1"; g.port = 104; g.bind = "::"; g.maxAssociations = 4; g.maxPDU = 16384
            g.dimseTimeout = .seconds(5); g.acseTimeout = .seconds(6); g.acceptUnknownCallers = false
            return g
        }()
        #expect(config.gateway == expected)
        #expect(config.storage.duplicates == .reject)
        #expect(config.storage.minFreeSpace == ByteCount(bytes: 1536 << 20))
        #expect(config.storage.retention == RetentionPolicy(maxSize: .terabytes(10), maxAgeDays: nil))
        #expect(config.logging.level == .debug && config.logging.dcmtkLevel == .error)
        #expect(config.logging.format == .json && config.logging.patientData)
    }

    @Test func nodesAreFoundByNameAndCallingAETitle() throws {
        let config = try parse("""
            gateway: { accept_unknown_callers: false }
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: hub.example.org, port: 11113, roles: [reporter] }
            """)
        #expect(config.node(named: "TRUST_A")?.aeTitle == "TRUSTA_PACS")
        #expect(config.node(named: "trust_a") == nil)
        #expect(config.node(forCallingAE: "HUB_READ ")?.name == "HUB")
        #expect(config.node(forCallingAE: "TRUSTA_PACS")?.address == nil)
        #expect(config.node(forCallingAE: "hub_read") == nil)
        #expect(config.access.association(callingAE: "TRUSTA_PACS", peer: "127.0.0.1") == nil)
        #expect(config.access.association(callingAE: "STRANGER", peer: "127.0.0.1")?.reason == .unknownCaller)
        #expect(config.node(named: "HUB")?.maxAssociations == 2)
    }

    @Test(arguments: [("0", 0), ("512", 512), ("1KB", 1024), ("2 mb", 2 << 20), ("1GiB", 1 << 30), ("0.5TB", 1 << 39)] as [(String, Int64)])
    func sizesAcceptBinaryUnits(text: String, bytes: Int64) {
        #expect(ByteCount(parsing: text)?.bytes == bytes)
    }

    @Test(arguments: ["", "GB", "-1GB", "1 PB", "ten", "1e3"])
    func sizesRejectWhatIsNotASize(text: String) {
        #expect(ByteCount(parsing: text) == nil)
    }

    @Test func sizesPrintInTheLargestExactUnit() {
        #expect(ByteCount.gigabytes(500).description == "500GB")
        #expect(ByteCount(bytes: 1536 << 20).description == "1536MB")
        #expect(ByteCount(bytes: 0).description == "0B")
    }
}
