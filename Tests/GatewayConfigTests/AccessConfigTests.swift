import GatewayConfig
import Testing

/// Per-node `allow`, `move_destinations` and `hosts`, the unknown-caller keys of `gateway:`, and
/// the decisions ``AccessPolicy`` takes from them.
@Suite struct AccessConfigTests {
    static let nodes = """
        nodes:
          SCANNER: { ae_title: CT01, roles: [source] }
          PACS: { ae_title: PACS_AE, host: 127.0.0.1, port: 4242, roles: [source, destination] }
          READER: { ae_title: READ_AE, host: 127.0.0.1, port: 4243, roles: [reporter, destination] }
          ARCHIVE: { ae_title: ARCH_AE, host: 127.0.0.1, port: 4244, roles: [destination] }
        """

    @Test func withoutAllowANodeGetsTheDefaultsOfItsRoles() throws {
        let c = try parse(Self.nodes)
        #expect(c.node(named: "SCANNER")?.permissions == [.echo, .store])
        #expect(c.node(named: "ARCHIVE")?.permissions == [.echo])
        #expect(c.node(named: "PACS")?.permissions == [.echo, .store])
        #expect(c.node(named: "READER")?.permissions == [.echo, .store, .find, .move, .get])
        #expect(c.node(named: "READER")?.access == NodeAccess())
        // A reporting site takes part in the worklist by default.
        #expect(NodeAccess.defaultPermissions(roles: [.reporter, .destination], reportingSite: true).contains(.worklist))
    }

    @Test func allowMoveDestinationsAndHostsAreRead() throws {
        let c = try parse("""
            nodes:
              SCANNER: { ae_title: CT01, roles: [source], allow: [ECHO, store, find, find], hosts: [10.1.2.0/24, 10.9.9.9, "2001:db8::/32"] }
              READER: { ae_title: READ_AE, host: 127.0.0.1, port: 4243, roles: [reporter], allow: [], move_destinations: [READER, ARCHIVE] }
              ARCHIVE: { ae_title: ARCH_AE, host: 127.0.0.1, port: 4244, roles: [destination], move_destinations: [] }
            """)
        let scanner = try #require(c.node(named: "SCANNER"))
        #expect(scanner.permissions == [.echo, .store, .find])
        #expect(scanner.access.hosts?.map(\.description) == ["10.1.2.0/24", "10.9.9.9", "2001:db8::/32"])
        #expect(c.node(named: "READER")?.permissions == [])
        #expect(c.node(named: "READER")?.access.moveDestinations == ["READER", "ARCHIVE"])
        #expect(c.node(named: "ARCHIVE")?.access.moveDestinations == [])
    }

    @Test func badAccessKeysAreReportedWhereTheyAreWritten() {
        let badPermission = """
            nodes:
              SCANNER: { ae_title: CT01, roles: [source], allow: [echo, stor] }
            """
        let d = singleDiagnostic(badPermission)
        expect(d, .invalidValue, at: "stor]", in: badPermission)
        #expect(d?.message.contains("did you mean 'store'") == true, "\(String(describing: d))")

        let unknownDestination = """
            nodes:
              READER: { ae_title: READ_AE, host: 127.0.0.1, port: 4243, roles: [reporter], move_destinations: [READR, NOWHERE] }
            """
        let both = diagnostics(unknownDestination)
        #expect(both.count == 2, "\(ConfigError(diagnostics: both))")
        expect(both.first, .invalidValue, at: "READR", in: unknownDestination)
        #expect(both.first?.path == "nodes.READER.move_destinations[0]")
        #expect(both.first?.message.contains("did you mean 'READER'") == true, "\(both)")
        #expect(both.last?.message.contains("'NOWHERE', which is not a node") == true, "\(both)")

        let noAddress = """
            nodes:
              SCANNER: { ae_title: CT01, roles: [source] }
              READER: { ae_title: READ_AE, host: 127.0.0.1, port: 4243, roles: [reporter], move_destinations: [SCANNER] }
            """
        let d2 = singleDiagnostic(noAddress)
        expect(d2, .invalidValue, at: "SCANNER]", in: noAddress)
        #expect(d2?.message.contains("has no host and port") == true, "\(String(describing: d2))")

        for (hosts, words) in [("[hub.example.org]", "host names are not looked up"), ("[10.1.2.0/33]", "invalid prefix length"),
                               ("[10.1.2.3/24]", "did you mean 10.1.2.0/24"), ("[]", "empty hosts list"),
                               ("[\"2001:db8::1/ab\"]", "invalid prefix length"), ("10.1.2.3", "expected a list")] {
            let yaml = "nodes:\n  SCANNER: { ae_title: CT01, roles: [source], hosts: \(hosts) }\n"
            let d = singleDiagnostic(yaml)
            #expect(d?.line == 2 && d?.path.hasPrefix("nodes.SCANNER.hosts") == true, "\(String(describing: d))")
            #expect(d?.message.contains(words) == true, "\(hosts): \(String(describing: d))")
        }
        let noValue = "nodes:\n  SCANNER:\n    ae_title: CT01\n    roles: [source]\n    allow:\n"
        let d3 = singleDiagnostic(noValue)
        #expect(d3?.line == 5 && d3?.message.contains("[] to allow nothing") == true, "\(String(describing: d3))")
        #expect(singleDiagnostic("nodes:\n  X: { ae_title: X1, roles: [source], allow: echo }\n")?.message
            .contains("expected a list") == true)
    }

    @Test func unknownCallersAreAcceptedOnALoopbackListenerOnlyUnlessTheFileSays() throws {
        let loopback = try parse("")
        #expect(loopback.gateway.listensOnLoopbackOnly && loopback.gateway.acceptsUnknownCallers)
        #expect(loopback.gateway.unknownCallerPermissions == NodePermission.dicomServices)
        #expect(loopback.access.association(callingAE: "STRANGER", peer: "127.0.0.1") == nil)
        #expect(loopback.access.operation(.move, callingAE: "STRANGER", peer: "127.0.0.1") == nil)

        // 127.0.0.2 is "another address": only 127.0.0.1 and ::1 count as loopback-only.
        let network = try parse("gateway: { bind: 127.0.0.2 }")
        #expect(!network.gateway.listensOnLoopbackOnly && !network.gateway.acceptsUnknownCallers)
        let refusal = network.access.association(callingAE: "STRANGER", peer: "10.0.0.1")
        #expect(refusal?.reason == .unknownCaller)
        #expect(refusal?.detail.contains("'STRANGER' at 10.0.0.1") == true && refusal?.detail.contains("not set") == true)

        let accepted = try parse("gateway: { bind: 0.0.0.0, accept_unknown_callers: true }")
        #expect(accepted.gateway.acceptUnknownCallers == true)
        #expect(accepted.access.association(callingAE: "STRANGER", peer: "10.0.0.1") == nil)
        #expect(accepted.access.operation(.store, callingAE: "STRANGER", peer: "10.0.0.1") == nil)
        #expect(accepted.access.operation(.echo, callingAE: "STRANGER", peer: "10.0.0.1") == nil)
        let find = accepted.access.operation(.find, callingAE: "STRANGER", peer: "10.0.0.1")
        #expect(find?.reason == .permissionDenied && find?.detail.contains("C-FIND") == true, "\(String(describing: find))")

        let configured = try parse("gateway: { bind: 0.0.0.0, accept_unknown_callers: yes, unknown_callers_allow: [echo, find] }")
        #expect(configured.gateway.unknownCallerPermissions == [.echo, .find])
        #expect(configured.access.operation(.store, callingAE: "STRANGER", peer: "10.0.0.1")?.reason == .permissionDenied)
        let closedLoopback = try parse("gateway: { accept_unknown_callers: false }")
        #expect(closedLoopback.access.association(callingAE: "STRANGER", peer: "127.0.0.1")?.detail.contains("is false") == true)
        let nothing = try parse("gateway: { unknown_callers_allow: [] }")
        #expect(nothing.access.association(callingAE: "STRANGER", peer: "127.0.0.1")?.reason == .unknownCaller)

        #expect(singleDiagnostic("gateway: { unknown_callers_allow: [echo, worklist] }")?.message.contains("worklist cannot") == true)
        #expect(singleDiagnostic("gateway:\n  accept_unknown_callers:\n")?.line == 2)
        #expect(singleDiagnostic("gateway: { unknown_callers_allow: [echo, stroe] }")?.message.contains("did you mean 'store'") == true)
    }

    @Test func nodesAreHeldToTheirAllowListHostsAndMoveDestinations() throws {
        let c = try parse(Self.nodes + """

              LIMITED: { ae_title: LIM_AE, host: 127.0.0.1, port: 4245, roles: [reporter], allow: [find, move],
                         move_destinations: [LIMITED], hosts: [127.0.0.3/32, "::1"] }
              NOTHING: { ae_title: NONE_AE, roles: [source], allow: [] }
            """)
        let policy = c.access
        #expect(policy.association(callingAE: "LIM_AE", peer: "127.0.0.3") == nil)
        #expect(policy.association(callingAE: "LIM_AE", peer: "::1") == nil)
        #expect(policy.association(callingAE: "LIM_AE", peer: "::ffff:127.0.0.3") == nil)
        let wrongHost = policy.association(callingAE: "LIM_AE", peer: "127.0.0.1")
        #expect(wrongHost?.reason == .hostNotAllowed)
        #expect(wrongHost?.detail == "node LIMITED (AE 'LIM_AE') called from 127.0.0.1, which is not in its hosts [127.0.0.3, ::1]")
        #expect(policy.association(callingAE: "LIM_AE", peer: "not-an-address")?.reason == .hostNotAllowed)
        #expect(policy.association(callingAE: "NONE_AE", peer: "127.0.0.1")?.reason == .permissionDenied)

        #expect(policy.operation(.find, callingAE: "LIM_AE", peer: "127.0.0.3") == nil)
        let echo = policy.operation(.echo, callingAE: "LIM_AE", peer: "127.0.0.3")
        #expect(echo?.detail == "node LIMITED (AE 'LIM_AE') at 127.0.0.3 may not use C-ECHO: not in its allow list [find, move]")
        let store = policy.operation(.store, callingAE: "CT01", peer: "127.0.0.1")
        #expect(store == nil)
        let find = policy.operation(.find, callingAE: "CT01  ", peer: "127.0.0.1")
        #expect(find?.reason == .permissionDenied && find?.detail.contains("the defaults of its roles [echo, store]") == true)
        #expect(policy.operation(.get, callingAE: "READ_AE", peer: "127.0.0.1") == nil)
        #expect(policy.operation(.store, callingAE: "ARCH_AE", peer: "127.0.0.1")?.reason == .permissionDenied)

        let limited = try #require(c.node(named: "LIMITED"))
        let archive = try #require(c.node(named: "ARCHIVE"))
        #expect(policy.moveDestination(limited, callingAE: "LIM_AE", peer: "127.0.0.3") == nil)
        let denied = policy.moveDestination(archive, callingAE: "LIM_AE", peer: "127.0.0.3")
        #expect(denied?.reason == .moveDestinationDenied)
        #expect(denied?.detail.contains("C-MOVE to ARCHIVE (AE 'ARCH_AE'), which is not in its move_destinations [LIMITED]") == true)
        #expect(policy.moveDestination(archive, callingAE: "READ_AE", peer: "127.0.0.1") == nil)
        #expect(policy.moveDestination(archive, callingAE: "STRANGER", peer: "127.0.0.1") == nil)

        #expect(policy.worklistClaim(site: "READER")?.reason == .permissionDenied)
        #expect(policy.worklistClaim(site: "NO_SUCH_NODE") == nil)
    }

    @Test func addressRangesMatchWhatTheyShould() throws {
        let v4 = try AddressRange(parsing: "10.1.2.0/23")
        #expect(v4.contains("10.1.3.255") && v4.contains("10.1.2.0") && !v4.contains("10.1.4.0") && !v4.contains("10.1.1.255"))
        #expect(v4.contains("::ffff:10.1.3.1") && !v4.contains("2001:db8::1") && !v4.contains("hub.example.org"))
        let v6 = try AddressRange(parsing: "2001:db8::/32")
        #expect(v6.contains("2001:db8:ffff::1") && !v6.contains("2001:db9::1") && !v6.contains("10.1.2.3"))
        #expect(try AddressRange(parsing: "0.0.0.0/0").contains("192.168.7.7"))
        #expect(try AddressRange(parsing: "10.1.2.3").description == "10.1.2.3")
        #expect(try AddressRange(parsing: "10.1.2.3/32").contains("10.1.2.3"))
        #expect(throws: AddressRange.ParseError.self) { try AddressRange(parsing: "10.1.2.0/-1") }
        #expect(throws: AddressRange.ParseError.self) { try AddressRange(parsing: "10.1.2.0/") }
        #expect(throws: AddressRange.ParseError.self) { try AddressRange(parsing: "10.1.2.256") }
    }
}
