import Foundation
import Testing
import GatewayConfig

/// Each kind of mistake is reported at the exact line and column, with an actionable message.
@Suite struct DiagnosticTests {
    @Test func outOfRangePortIsReportedLikeACompilerError() {
        let yaml = """
            nodes:
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 70000, roles: [destination, reporter] }
            """
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .invalidValue, at: "70000", in: yaml)
        #expect(diagnostic?.description == "test.yaml:2:53: error: nodes.HUB.port: 70000 is not a port (1-65535)")
    }

    @Test func wordWhereANumberBelongsIsAWrongType() {
        let yaml = "gateway:\n  port: abc\n"
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .wrongType, at: "abc", in: yaml)
        #expect(diagnostic?.message == "'abc' is not a port (1-65535)")
        #expect(diagnostic?.path == "gateway.port")
    }

    @Test func sectionThatIsNotAMappingIsAWrongType() {
        let yaml = "storage: ./var\n"
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .wrongType, at: "./var", in: yaml)
        #expect(diagnostic?.message.contains("expected a mapping") == true)
    }

    @Test func keyWithoutValueAsksForAValueOrRemoval() {
        let yaml = "gateway:\n  ae_title: NETGW\n  port:\n"
        let diagnostic = singleDiagnostic(yaml)
        #expect(diagnostic?.code == .wrongType)
        #expect(diagnostic?.line == 3)
        #expect(diagnostic?.message.contains("delete the key to use the default") == true)
    }

    @Test func misspelledKeySuggestsTheKnownOne() {
        let yaml = "gateway:\n  prot: 11112\n  aeTitle: NETGW\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2)
        expect(all.first, .unknownKey, at: "prot", in: yaml)
        #expect(all.first?.message == "unknown key 'prot'; did you mean 'port'?")
        expect(all.last, .unknownKey, at: "aeTitle", in: yaml)
        #expect(all.last?.message == "unknown key 'aeTitle'; did you mean 'ae_title'?")
    }

    @Test func unknownSectionIsAnErrorWithAHint() {
        let yaml = "loging:\n  level: info\nrules: []\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2)
        expect(all.first, .unknownKey, at: "loging", in: yaml)
        #expect(all.first?.message == "unknown section 'loging'; did you mean 'logging'?")
        #expect(all.last?.message == "unknown section 'rules'; expected one of: gateway, limits, storage, index, cluster, delivery, identity, priors, logging, http, dicomweb, audit, nodes, priorities, routes, reporting")
    }

    @Test func duplicateKeyPointsAtTheSecondOccurrence() {
        let yaml = "gateway:\n  port: 104\n  port: 11112\n"
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .duplicateKey, at: "port", in: yaml, occurrence: 2)
        #expect(diagnostic?.message.contains("first on line 2") == true)
    }

    @Test func invalidAETitleExplainsTheRule() {
        let yaml = "gateway:\n  ae_title: MUCH_TOO_LONG_AE_TITLE\n"
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .invalidValue, at: "MUCH_TOO_LONG", in: yaml)
        #expect(diagnostic?.message == "AE title 'MUCH_TOO_LONG_AE_TITLE' is longer than 16 characters")
    }

    @Test func duplicateAETitleNamesTheNodeThatHasItFirst() {
        let yaml = """
            nodes:
              TRUST_A: { ae_title: PACS, roles: [source] }
              TRUST_B:
                ae_title: PACS
                roles: [source]
            """
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .conflict, at: "PACS", in: yaml, occurrence: 2)
        #expect(diagnostic?.path == "nodes.TRUST_B.ae_title")
        #expect(diagnostic?.message.contains("already used by node 'TRUST_A' (line 2)") == true)
    }

    @Test func nodeCannotUseTheGatewaysOwnAETitle() {
        let yaml = "gateway: { ae_title: NETGW }\nnodes:\n  SELF: { ae_title: NETGW, roles: [source] }\n"
        expect(singleDiagnostic(yaml), .conflict, at: "NETGW", in: yaml, occurrence: 2)
    }

    @Test func badChoiceSuggestsTheClosestOrListsAll() {
        let yaml = "storage:\n  duplicates: keepp\nlogging:\n  level: verbose\n  format: JSON\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2)
        expect(all.first, .invalidValue, at: "keepp", in: yaml)
        #expect(all.first?.message == "'keepp' is not a duplicate policy; did you mean 'keep'? (one of keep, replace, reject)")
        expect(all.last, .invalidValue, at: "verbose", in: yaml)
        #expect(all.last?.message == "'verbose' is not a log level; use one of trace, debug, info, notice, warning, error, critical")
    }

    @Test func badRoleIsReportedAtTheListItem() {
        let yaml = "nodes:\n  A: { ae_title: A, roles: [source, printer] }\n  B: { ae_title: B, roles: source }\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2)
        expect(all.first, .invalidValue, at: "printer", in: yaml)
        #expect(all.first?.path == "nodes.A.roles[1]")
        expect(all.last, .wrongType, at: "source", in: yaml, occurrence: 2)
    }

    @Test func missingRequiredKeysArePointedAtTheNodeName() {
        let yaml = "nodes:\n  HUB:\n    roles: [destination]\n"
        let all = diagnostics(yaml)
        #expect(all.map(\.message) == [
            "missing required key 'ae_title'",
            "missing required key 'host' (the gateway connects to destinations)",
            "missing required key 'port' (the gateway connects to destinations)",
        ])
        for diagnostic in all { expect(diagnostic, .missingKey, at: "HUB", in: yaml) }
    }

    @Test func sourceNodeNeedsNoAddressButHostAndPortGoTogether() throws {
        #expect(try parse("nodes:\n  A: { ae_title: A, roles: [source] }\n").nodes.first?.address == nil)
        let yaml = "nodes:\n  A: { ae_title: A, roles: [source], host: 127.0.0.1 }\n  B:\n    ae_title:\n    roles: [source]\n"
        let all = diagnostics(yaml)
        #expect(all.map(\.message) == [
            "missing required key 'port' (host and port go together)", "required key 'ae_title' has no value",
        ])
        expect(all.first, .missingKey, at: "A", in: yaml)
        #expect(all.last?.line == 4)
    }

    @Test func invalidNodeNameIsReported() {
        let yaml = "nodes:\n  HUB 1: { ae_title: HUB, roles: [reporter], host: localhost, port: 104 }\n"
        let diagnostic = singleDiagnostic(yaml)
        expect(diagnostic, .invalidValue, at: "HUB 1", in: yaml)
    }

    @Test func invalidHostAndSizeAreReported() {
        let yaml = "gateway: { bind: 10.0.0.300 }\nstorage: { min_free_space: lots }\n"
        let all = diagnostics(yaml)
        #expect(all.count == 2)
        expect(all.first, .invalidValue, at: "10.0.0.300", in: yaml)
        expect(all.last, .wrongType, at: "lots", in: yaml)
    }

    @Test func yamlSyntaxErrorHasLineAndColumn() {
        let yaml = "gateway:\n  port: 11112\n  bind: [127.0.0.1\nstorage: {}\n"
        let diagnostic = singleDiagnostic(yaml)
        #expect(diagnostic?.code == .syntax)
        #expect(diagnostic?.line == 4)
        #expect(diagnostic?.column == 8)
        #expect(diagnostic?.message.hasPrefix("invalid YAML: ") == true)
    }

    @Test func tabIndentationGetsAHint() {
        let yaml = "gateway:\n\tport: 11112\n"
        let diagnostic = singleDiagnostic(yaml)
        #expect(diagnostic?.code == .syntax)
        #expect(diagnostic?.line == 2 && diagnostic?.column == 1)
        #expect(diagnostic?.message.contains("tabs") == true)
    }

    @Test func everyErrorIsReportedInOnePassInFileOrder() {
        let yaml = """
            gateway:
              ae_title: ""
              port: 0
              max_pdu: 1024
            storage:
              duplicates: overwrite
            logging:
              levle: info
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4242, roles: [source] }
              TRUST_B: { ae_title: TRUSTA_PACS, host: 127.0.0.1, port: 4243, roles: [source] }
              HUB: { ae_title: HUB_READ, roles: [destination], port: 11113 }
            """
        let all = diagnostics(yaml)
        #expect(all.map(\.path) == [
            "gateway.ae_title", "gateway.port", "gateway.max_pdu", "storage.duplicates",
            "logging.levle", "nodes.TRUST_B.ae_title", "nodes.HUB",
        ])
        #expect(all.map(\.line) == [2, 3, 4, 6, 8, 11, 12])
        #expect(ConfigError(diagnostics: all).description.split(separator: "\n").count == 7)
    }

    @Test func documentThatIsNotAMappingIsRejectedAtItsStart() {
        let diagnostic = singleDiagnostic("- gateway\n- storage\n")
        #expect(diagnostic?.code == .wrongType)
        #expect(diagnostic?.line == 1 && diagnostic?.column == 1)
        #expect(diagnostic?.message.hasPrefix("the configuration must be a mapping of sections") == true)
    }

    @Test func secondYAMLDocumentIsASyntaxError() {
        let diagnostic = singleDiagnostic("gateway: {}\n---\nstorage: {}\n")
        #expect(diagnostic?.code == .syntax)
        #expect(diagnostic?.line == 2)
        #expect(diagnostic?.message.contains("more than one YAML document") == true)
    }

    @Test func unreadableFileIsReportedWithoutPosition() {
        let url = URL(fileURLWithPath: "/nonexistent/gateway.yaml")
        #expect {
            try GatewayConfiguration.load(contentsOf: url)
        } throws: { error in
            guard let error = error as? ConfigError, let diagnostic = error.diagnostics.first else { return false }
            return diagnostic.code == .unreadable && diagnostic.line == nil
                && diagnostic.description.hasPrefix("/nonexistent/gateway.yaml: error: cannot read the file")
        }
    }
}

/// Hostile configuration text (found by the config fuzz target): deep flow nesting overflowed
/// Yams's recursive composer; it is refused with a syntax error before Yams sees it.
@Suite struct HostileConfigTests {
    @Test func deeplyNestedFlowCollectionsAreASyntaxErrorNotACrash() throws {
        let text = "gateway: " + String(repeating: "{", count: 4_000)
        do {
            _ = try GatewayConfiguration.parse(yaml: text, sourceName: "deep.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
            Issue.record("4,000 nested braces must be refused")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.line == 1)
            #expect(error.diagnostics.first?.message.contains("nest deeper than 64") == true, "\(error.diagnostics)")
        }
    }

    @Test func bracesInQuotesAndCommentsDoNotCount() throws {
        let text = """
            # {{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{
            gateway: { ae_title: "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[" }
            """
        do {
            _ = try GatewayConfiguration.parse(yaml: text, sourceName: "q.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        } catch {
            // The AE title is invalid (too long), but that is a value error, not nesting.
            #expect(!error.diagnostics.contains { $0.message.contains("nest deeper") }, "\(error.diagnostics)")
        }
    }

    /// The fuzz target's reproducers of the check's old bypasses (scripts/fuzz/swift/findings):
    /// an apostrophe in a plain scalar, an escaped quote, compact block sequences.
    @Test(arguments: ["config-nesting-bypass-apostrophe.yaml", "config-nesting-bypass-escaped-quote.yaml",
                      "config-nesting-bypass-block-sequence.yaml"])
    func nestingHiddenBehindQuotesOrCompactSequencesIsASyntaxErrorNotACrash(_ name: String) throws {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        let text = try String(contentsOf: url.appendingPathComponent("scripts/fuzz/swift/findings/" + name), encoding: .utf8)
        do {
            _ = try GatewayConfiguration.parse(yaml: text, sourceName: name, baseDirectory: URL(fileURLWithPath: "/tmp"))
            Issue.record("\(name) must be refused")
        } catch {
            #expect(error.diagnostics.count == 1, "\(error.diagnostics)")
            #expect(error.diagnostics.first?.message.contains("nest deeper than") == true, "\(error.diagnostics)")
        }
    }

    @Test func ordinaryApostrophesDashesAndQuotedEscapesStillLoad() throws {
        let text = """
            gateway: { ae_title: "NET\\"GW" }
            nodes:
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: 104, roles: [destination] }
            routes:
              - { name: children's-ct, when: { Modality: [CT, MR], StudyDescription: "~(?i)child's head" }, to: [HUB] }
              - name: adults
                when: { Modality: CT }
                to:
                  - HUB
            """
        do {
            _ = try GatewayConfiguration.parse(yaml: text, sourceName: "ok.yaml", baseDirectory: URL(fileURLWithPath: "/tmp"))
        } catch {
            #expect(!error.diagnostics.contains { $0.message.contains("nest deeper") }, "\(error.diagnostics)")
        }
    }
}
