import DicomCore
import GatewayConfig
import Testing

/// The `delivery:` section, a source's `pull:` and a reporter's `federated_query`.
@Suite struct DeliveryAndPullConfigTests {
    @Test func deliveryAndPullSettingsAreReadWithTheirUnits() throws {
        let config = try parse("""
            delivery: { batch_size: 8, max_attempts: 3, max_age: 2d, aging: 15m, retry_initial: 30, retry_max: 1h }
            nodes:
              TRUST_A: { ae_title: TRUSTA, host: 127.0.0.1, port: 104, roles: [source],
                         pull: { interval: 90s, lookback: 3d, filters: { ModalitiesInStudy: CT, StationName: "CT*" } } }
              HUB: { ae_title: HUB, host: 127.0.0.1, port: 105, roles: [reporter], federated_query: true }
            """)
        #expect(config.delivery.batchSize == 8)
        #expect(config.delivery.maxAttempts == 3)
        #expect(config.delivery.maxAge == .seconds(2 * 86_400))
        #expect(config.delivery.aging == .seconds(900))
        #expect(config.delivery.retryInitial == .seconds(30))
        #expect(config.delivery.retryMax == .seconds(3600))
        let pull = try #require(config.node(named: "TRUST_A")?.pull)
        #expect(pull.interval == .seconds(90))
        #expect(pull.lookbackDays == 3)
        #expect(pull.method == .move)
        #expect(pull.filters == [.modalitiesInStudy: "CT", DicomTag(0x0008, 0x1010): "CT*"])
        #expect(config.node(named: "HUB")?.federatedQuery == true)
        #expect(config.node(named: "TRUST_A")?.federatedQuery == false)
        #expect(try parse("").delivery == DeliverySettings())
    }

    @Test func badPullAndDeliveryValuesAreReportedWhereTheyAre() {
        let found = diagnostics("""
            nodes:
              A: { ae_title: A, roles: [destination], host: 127.0.0.1, port: 1, pull: { interval: 0s, method: fetch, filters: { Bogus: x } } }
            delivery: { aging: soon }
            """)
        #expect(found.map(\.path) == ["nodes.A.roles", "nodes.A.pull.interval", "nodes.A.pull.method", "nodes.A.pull.filters.Bogus",
                                       "delivery.aging"])
        #expect(found.map(\.line) == [2, 2, 2, 2, 3])
        #expect(found[0].message == "a node with 'pull' needs the role source")
        #expect(found[1].message.hasPrefix("'0s' is not a duration"))
        #expect(found[3].message.hasPrefix("'Bogus' is not a DICOM keyword"))
    }
}
