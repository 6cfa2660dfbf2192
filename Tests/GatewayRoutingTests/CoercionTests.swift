import DicomCore
import GatewayConfig
import GatewayRouting
import Testing

@Suite struct CoercionTests {
    /// The edits of the only delivery of a route `coerce`-ing what it sends to HUB.
    func edits(_ coerce: String, _ values: [String: String], from node: String? = "TRUST_A") throws -> AttributeEdits {
        let r = try router("routes:\n  - { name: c, to: [HUB], coerce: \(coerce) }\n")
        return try #require(r.route(instance(values, from: node)).delivery(to: "HUB")).edits
    }

    @Test func setWritesAValueWhetherOrNotItWasThere() throws {
        let e = try edits(#"{ set: { InstitutionName: "Royal Trust", StudyID: "1" } }"#, ["StudyID": "9"])
        #expect(e == [DicomTag(keyword: "InstitutionName")!: "Royal Trust", .studyID: "1"])
    }

    @Test func removeDeletesPresentAttributesOnly() throws {
        let e = try edits("{ remove: [ReferringPhysicianName, StationName] }", ["ReferringPhysicianName": "Dr X"])
        let expected: AttributeEdits = [DicomTag(keyword: "ReferringPhysicianName")!: String?.none]
        #expect(e == expected)
    }

    @Test func prefixGoesInFrontOncePresentValuesOnly() throws {
        #expect(try edits(#"{ prefix: { PatientID: "RTH-" } }"#, ["PatientID": "123"]) == [.patientID: "RTH-123"])
        #expect(try edits(#"{ prefix: { PatientID: "RTH-" } }"#, ["PatientID": "RTH-123"]).isEmpty)
        #expect(try edits(#"{ prefix: { PatientID: "RTH-" } }"#, [:]).isEmpty)
    }

    @Test func mapReplacesWholeValuesItKnows() throws {
        let coerce = #"{ map: { StudyDescription: { "CT HEAD": "CT Head", "MR": "MR Brain" } } }"#
        #expect(try edits(coerce, ["StudyDescription": "CT HEAD "]) == [.studyDescription: "CT Head"])
        #expect(try edits(coerce, ["StudyDescription": "CT HEAD NECK"]).isEmpty)
    }

    @Test func prefixAppliesToTheMappedValue() throws {
        let coerce = #"{ map: { PatientID: { "1": "ONE" } }, prefix: { PatientID: "X-" } }"#
        #expect(try edits(coerce, ["PatientID": "1"]) == [.patientID: "X-ONE"])
    }

    @Test func issuerFromNodeSetsTheSendersIssuer() throws {
        #expect(try edits("{ issuer_from_node: true }", ["PatientID": "1"], from: "TRUST_B") == [.issuerOfPatientID: "RGT"])
        #expect(try edits("{ issuer_from_node: true }", ["IssuerOfPatientID": "RTH"], from: "TRUST_A").isEmpty)
        let r = try router("routes:\n  - { name: c, to: [HUB], coerce: { issuer_from_node: true } }\n")
        let unknown = r.route(instance(from: nil))
        #expect(unknown.delivery(to: "HUB")?.edits.isEmpty == true)
        #expect(unknown.notes.count == 1)
    }

    @Test func editsApplyToAttributesForRouteTest() throws {
        let e = try edits(#"{ prefix: { PatientID: "RTH-" }, remove: [PatientName], issuer_from_node: true }"#,
                          ["PatientID": "7", "PatientName": "DOE^J"])
        let original = instance(["PatientID": "7", "PatientName": "DOE^J"]).attributes
        let coerced = original.applying(e)
        #expect(coerced.string(.patientID) == "RTH-7")
        #expect(coerced[.patientName] == nil)
        #expect(coerced.string(.issuerOfPatientID) == "RTH")
        #expect(coerced.string(.sopClassUID) == SOPClass.ctImageStorage)
    }

    @Test func eachRouteCoercesItsOwnCopy() throws {
        let r = try router("""
            routes:
              - { name: hub, to: [HUB], coerce: { prefix: { PatientID: "RTH-" } } }
              - { name: home, to: [TRUST_A] }
            """)
        let decision = r.route(instance(["PatientID": "5"]))
        #expect(decision.delivery(to: "HUB")?.edits == [.patientID: "RTH-5"])
        #expect(decision.delivery(to: "TRUST_A")?.edits.isEmpty == true)
    }
}
