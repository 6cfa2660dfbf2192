import Foundation

extension AuditMessage {
    /// The message as one line of XML per the DICOM audit message schema (PS3.15 A.5.1), without
    /// an XML declaration (RFC 5424 messages carry UTF-8 after their BOM). Every value is escaped:
    /// markup characters become entities, line breaks and tabs character references, and
    /// characters XML 1.0 cannot carry (NUL and other controls) U+FFFD, so a hostile AE title or
    /// patient name can neither break the document nor split the line.
    public func xml() -> String {
        var w = XMLWriter()
        w.open("AuditMessage", [], empty: false)
        w.open("EventIdentification", [
            ("EventActionCode", event.action.rawValue),
            ("EventDateTime", AuditDateTime.format(event.dateTime)),
            ("EventOutcomeIndicator", String(event.outcome.rawValue)),
        ], empty: false)
        w.code("EventID", event.id)
        for code in event.typeCodes { w.code("EventTypeCode", code) }
        if let text = event.outcomeDescription { w.text("EventOutcomeDescription", text) }
        w.close("EventIdentification")
        for p in participants {
            var attributes: [(String, String)] = [("UserID", p.userID)]
            if let alternative = p.alternativeUserID { attributes.append(("AlternativeUserID", alternative)) }
            if let name = p.userName { attributes.append(("UserName", name)) }
            attributes.append(("UserIsRequestor", p.userIsRequestor ? "true" : "false"))
            if let point = p.networkAccessPointID, !point.isEmpty {
                attributes.append(("NetworkAccessPointID", point))
                attributes.append(("NetworkAccessPointTypeCode", String(NetworkAccessPointType.of(point).rawValue)))
            }
            w.open("ActiveParticipant", attributes, empty: p.roles.isEmpty)
            if !p.roles.isEmpty {
                for role in p.roles { w.code("RoleIDCode", role) }
                w.close("ActiveParticipant")
            }
        }
        var sourceAttributes: [(String, String)] = [("AuditSourceID", source.id)]
        if let site = source.enterpriseSiteID, !site.isEmpty { sourceAttributes.append(("AuditEnterpriseSiteID", site)) }
        w.open("AuditSourceIdentification", sourceAttributes, empty: false)
        w.open("AuditSourceTypeCode", [("csd-code", source.typeCode)], empty: true)
        w.close("AuditSourceIdentification")
        for o in objects { w.object(o) }
        w.close("AuditMessage")
        return w.output
    }
}

/// `xsd:dateTime` in UTC with milliseconds, as RFC 5424 also wants its TIMESTAMP.
enum AuditDateTime {
    static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}

/// A minimal XML writer: elements, attributes and text, every value escaped.
struct XMLWriter {
    private(set) var output = ""

    mutating func open(_ name: String, _ attributes: [(String, String)], empty: Bool) {
        output += "<" + name
        for (key, value) in attributes {
            output += " " + key + "=\"" + Self.escape(value) + "\""
        }
        output += empty ? "/>" : ">"
    }

    mutating func close(_ name: String) { output += "</" + name + ">" }

    mutating func text(_ name: String, _ value: String) {
        output += "<" + name + ">" + Self.escape(value) + "</" + name + ">"
    }

    mutating func code(_ name: String, _ code: AuditCode) {
        open(name, [("csd-code", code.code), ("codeSystemName", code.codeSystemName), ("originalText", code.originalText)], empty: true)
    }

    mutating func object(_ o: ParticipantObject) {
        var attributes: [(String, String)] = [("ParticipantObjectID", o.id)]
        if let type = o.typeCode { attributes.append(("ParticipantObjectTypeCode", String(type))) }
        if let role = o.typeCodeRole { attributes.append(("ParticipantObjectTypeCodeRole", String(role))) }
        if let cycle = o.dataLifeCycle { attributes.append(("ParticipantObjectDataLifeCycle", String(cycle))) }
        open("ParticipantObjectIdentification", attributes, empty: false)
        code("ParticipantObjectIDTypeCode", o.idTypeCode)
        if let query = o.query {
            text("ParticipantObjectQuery", query.base64EncodedString())
        } else if let name = o.name {
            text("ParticipantObjectName", name)
        }
        for detail in o.details {
            open("ParticipantObjectDetail", [("type", detail.type), ("value", detail.value.base64EncodedString())], empty: true)
        }
        if let description = o.description {
            open("ParticipantObjectDescription", [], empty: false)
            for number in description.accessionNumbers { open("Accession", [("Number", number)], empty: true) }
            for sop in description.sopClasses {
                open("SOPClass", [("UID", sop.uid), ("NumberOfInstances", String(sop.numberOfInstances))], empty: true)
            }
            close("ParticipantObjectDescription")
        }
        close("ParticipantObjectIdentification")
    }

    /// Escapes a value for an attribute or element text.
    static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t": out += "&#9;"
            case "\n": out += "&#10;"
            case "\r": out += "&#13;"
            default:
                let v = scalar.value
                // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF];
                // C1 controls (and DEL) are legal XML but would reach syslog collectors as controls.
                if v < 0x20 || v == 0x7F || (0x80...0x9F).contains(v) || v == 0xFFFE || v == 0xFFFF {
                    out += "\u{FFFD}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }
}
