import Foundation

/// The PS3.15 A.5.3 messages the gateway writes, each with the participants its section requires.
extension AuditMessage {
    /// Application Activity (110100, A.5.3.1): the gateway started (110120) or stopped (110121).
    public static func applicationActivity(started: Bool, gateway: AuditNode, source: AuditSource, outcome: AuditOutcome = .success,
                                           at time: Date = Date()) -> AuditMessage {
        AuditMessage(
            event: EventIdentification(id: .applicationActivity, action: .execute, dateTime: time, outcome: outcome,
                                       typeCodes: [started ? .applicationStart : .applicationStop]),
            participants: [gateway.participant(requestor: false, roles: [.application])], source: source)
    }

    /// Security Alert (110113, A.5.3.11): a refused association, certificate or permission, a
    /// configuration change. `kind` is the event type (Node Authentication, Use of Restricted
    /// Function, Software/Security Configuration); `subject` names what the alert is about (an AE
    /// title and address, a certificate subject, the configuration file).
    public static func securityAlert(kind: AuditCode, outcome: AuditOutcome, description: String, reporter: AuditNode,
                                     peer: AuditNode?, subject: String, source: AuditSource, at time: Date = Date()) -> AuditMessage {
        var participants = [reporter.participant(requestor: peer == nil, roles: [.application])]
        if let peer { participants.append(peer.participant(requestor: true, roles: [])) }
        let object = ParticipantObject(id: subject.isEmpty ? "unknown" : subject, idTypeCode: .nodeID, typeCode: 2, typeCodeRole: 13,
                                       details: [.init(type: "Alert Description", text: description)])
        return AuditMessage(
            event: EventIdentification(id: .securityAlert, action: .execute, dateTime: time, outcome: outcome, typeCodes: [kind],
                                       outcomeDescription: description),
            participants: participants, source: source, objects: [object])
    }

    /// User Authentication (110114, A.5.3.12): a login (110122) to the gateway's HTTP API, by
    /// `user` (the caller's address or token name), checked by the gateway.
    public static func userAuthentication(succeeded: Bool, user: AuditNode, authenticator: AuditNode, description: String?,
                                          source: AuditSource, at time: Date = Date()) -> AuditMessage {
        AuditMessage(
            event: EventIdentification(id: .userAuthentication, action: .execute, dateTime: time,
                                       outcome: succeeded ? .success : .minorFailure, typeCodes: [.login],
                                       outcomeDescription: description),
            participants: [user.participant(requestor: true, roles: []), authenticator.participant(requestor: false, roles: [.application])],
            source: source)
    }

    /// DICOM Instances Transferred (110104, A.5.3.4): instances moved from `sender` (Source Role
    /// ID) to `receiver` (Destination Role ID): action Create when the receiver had not had them,
    /// Read when the gateway sent them. One message per association, with every study and patient.
    public static func instancesTransferred(action: AuditEventAction, outcome: AuditOutcome, sender: AuditNode, receiver: AuditNode,
                                            requestor: AuditNode? = nil, senderIsRequestor: Bool, studies: [AuditStudy],
                                            patients: [AuditPatient], description: String? = nil, source: AuditSource,
                                            at time: Date = Date()) -> AuditMessage {
        var participants = [sender.participant(requestor: requestor == nil && senderIsRequestor, roles: [.sourceRole]),
                            receiver.participant(requestor: requestor == nil && !senderIsRequestor, roles: [.destinationRole])]
        if let requestor { participants.append(requestor.participant(requestor: true, roles: [])) }
        return AuditMessage(
            event: EventIdentification(id: .instancesTransferred, action: action, dateTime: time, outcome: outcome,
                                       outcomeDescription: description),
            participants: participants, source: source,
            objects: studies.map { $0.object(lifeCycle: nil) } + patients.map(\.object))
    }

    /// Query (110112, A.5.3.10): a C-FIND by `requestor` against `responder`, with the query's
    /// SOP Class UID and its identifier as received (ParticipantObjectQuery, base64).
    public static func query(outcome: AuditOutcome, requestor: AuditNode, responder: AuditNode, sopClassUID: String, identifier: Data,
                             transferSyntaxUID: String? = nil, description: String? = nil, source: AuditSource,
                             at time: Date = Date()) -> AuditMessage {
        var details: [ParticipantObject.Detail] = []
        if let transferSyntaxUID { details.append(.init(type: "TransferSyntax", text: transferSyntaxUID)) }
        let object = ParticipantObject(id: sopClassUID, idTypeCode: .sopClassUID, typeCode: 2, typeCodeRole: 24, query: identifier,
                                       details: details)
        return AuditMessage(
            event: EventIdentification(id: .query, action: .execute, dateTime: time, outcome: outcome, outcomeDescription: description),
            participants: [requestor.participant(requestor: true, roles: [.sourceRole]),
                           responder.participant(requestor: false, roles: [.destinationRole])],
            source: source, objects: [object])
    }

    /// DICOM Instances Accessed (110103, A.5.3.2): `accessor` read (or changed, deleted) instances
    /// the gateway holds, e.g. a C-MOVE or C-GET asking for a study.
    public static func instancesAccessed(action: AuditEventAction, outcome: AuditOutcome, accessor: AuditNode, holder: AuditNode,
                                         studies: [AuditStudy], patients: [AuditPatient], description: String? = nil,
                                         source: AuditSource, at time: Date = Date()) -> AuditMessage {
        AuditMessage(
            event: EventIdentification(id: .instancesAccessed, action: action, dateTime: time, outcome: outcome,
                                       outcomeDescription: description),
            participants: [accessor.participant(requestor: true, roles: []), holder.participant(requestor: false, roles: [.application])],
            source: source, objects: studies.map { $0.object(lifeCycle: 6) } + patients.map(\.object))
    }

    /// Export (110106, A.5.3.5): the gateway sent studies out of the system to `destination`
    /// (Destination Role ID) on behalf of `requestor`.
    public static func export(outcome: AuditOutcome, exporter: AuditNode, destination: AuditNode, requestor: AuditNode?,
                              studies: [AuditStudy], patients: [AuditPatient], description: String? = nil, source: AuditSource,
                              at time: Date = Date()) -> AuditMessage {
        var participants = [exporter.participant(requestor: requestor == nil, roles: [.sourceRole]),
                            destination.participant(requestor: false, roles: [.destinationRole])]
        if let requestor { participants.append(requestor.participant(requestor: true, roles: [])) }
        return AuditMessage(
            event: EventIdentification(id: .export, action: .read, dateTime: time, outcome: outcome, outcomeDescription: description),
            participants: participants, source: source, objects: studies.map { $0.object(lifeCycle: 10) } + patients.map(\.object))
    }

    /// DICOM Study Deleted (110105, A.5.3.3): the gateway removed a study (retention), on its own
    /// (`deleter` is the gateway) or for an operator.
    public static func studyDeleted(outcome: AuditOutcome, deleter: AuditNode, studies: [AuditStudy], patients: [AuditPatient],
                                    description: String? = nil, source: AuditSource, at time: Date = Date()) -> AuditMessage {
        AuditMessage(
            event: EventIdentification(id: .studyDeleted, action: .delete, dateTime: time, outcome: outcome,
                                       outcomeDescription: description),
            participants: [deleter.participant(requestor: true, roles: [.application])],
            source: source, objects: studies.map { $0.object(lifeCycle: 14) } + patients.map(\.object))
    }
}
