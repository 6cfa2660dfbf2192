import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayStore
import Logging

extension CacheServiceProvider {
    /// At most this many matches per C-FIND (a reporter narrows the query beyond that).
    static let maximumFindMatches = 10_000

    public func find(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: FindResponder)
        -> DIMSEResult
    {
        if refusal(.find, association) != nil {
            return DIMSEResult(status: .refusedNotAuthorized, errorComment: "C-FIND not allowed for this AE title")
        }
        if let problem = QueryKeyLimits.problem(identifier) {
            return refuseQuery(problem, event: "query", identifier: identifier, association: association)
        }
        guard let levelText = identifier.string(.queryRetrieveLevel), let level = QueryLevel(rawValue: levelText.uppercased()) else {
            return DIMSEResult(status: .identifierDoesNotMatchSOPClass, errorComment: "QueryRetrieveLevel missing or invalid")
        }
        if request.model == .studyRoot && level == .patient {
            return DIMSEResult(status: .identifierDoesNotMatchSOPClass, errorComment: "PATIENT level is not in the Study Root model")
        }
        let view = NetworkView(index: index, configuration: configuration, node: configuration.node(forCallingAE: association.callingAE),
                               logger: logger)
        // Matches are collected first and sent after the read transaction ends, so a slow requester
        // never holds an index reader (C-STOREs need them) or blocks WAL checkpoints.
        var matches: [DicomAttributes]
        do {
            matches = try view.find(identifier, level: level, retrieveAETitle: configuration.gateway.aeTitle.value,
                                    limit: Self.maximumFindMatches)
        } catch {
            logger.error("C-FIND failed", metadata: meta(association, ["error": "\(error)"]))
            return DIMSEResult(status: .unableToProcess, errorComment: "query failed")
        }
        if level == .study, let federation, configuration.node(forCallingAE: association.callingAE)?.federatedQuery == true {
            // The whole network in one answer: studies known at the sources, not cached, as NEARLINE.
            let cached = Set(matches.compactMap { $0.string(.studyInstanceUID) })
            matches = matches.map { var m = $0; m[.instanceAvailability] = "ONLINE"; return m }
            matches += federation.federatedMatches(identifier, excluding: cached, networkPatient: view.networkPatient(identifier))
                .prefix(Self.maximumFindMatches - matches.count)
        }
        var count = 0
        var state = ResponderState.proceed
        for var match in matches {
            // The index holds UTF-8: say so when an answer carries anything beyond ASCII.
            if match.contains(where: { !$0.value.utf8.allSatisfy { $0 < 0x80 } }) { match[.specificCharacterSet] = "ISO_IR 192" }
            state = responder.send(match)
            count += 1
            if state != .proceed { break }
        }
        if matches.count >= Self.maximumFindMatches {
            logger.warning("C-FIND answer truncated", metadata: meta(association, ["limit": "\(Self.maximumFindMatches)"]))
        }
        logger.info("C-FIND answered", metadata: meta(association, ["level": "\(level.rawValue)", "matches": "\(count)", "state": "\(state)"]))
        index.audit(AuditRecord(event: "query", actor: association.callingAE, peer: association.peerHost,
                                outcome: "\(count) match(es)", detail: "level \(level.rawValue)"),
                    context: AuditContext(sopClassUID: request.sopClassUID.trimmingDicomPadding(),
                                          queryIdentifier: QueryIdentifierEncoding.implicitVRLittleEndian(identifier)))
        GatewayMetrics.query(level: level.rawValue)
        return DIMSEResult(status: .success)
    }

    public func move(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder)
        -> RetrieveReply
    {
        if refusal(.move, association) != nil {
            return RetrieveReply(status: .refusedNotAuthorized, errorComment: "C-MOVE not allowed for this AE title")
        }
        if let problem = QueryKeyLimits.problem(identifier) {
            let refused = refuseQuery(problem, event: "retrieve", identifier: identifier, association: association)
            return RetrieveReply(status: refused.status, errorComment: refused.errorComment)
        }
        guard let destinationAE = request.moveDestination?.trimmingDicomPadding(),
              let node = configuration.node(forCallingAE: destinationAE), let address = node.address
        else {
            logger.warning("C-MOVE refused: unknown destination", metadata: meta(association, ["destination": "\(request.moveDestination ?? "")"]))
            index.audit(AuditRecord(event: "retrieve", actor: association.callingAE, peer: association.peerHost,
                                    studyUID: identifier.string(.studyInstanceUID), outcome: DIMSEStatus.moveDestinationUnknown.hex,
                                    detail: "C-MOVE to unknown destination \(request.moveDestination ?? "")"))
            GatewayMetrics.retrieve("move", status: .moveDestinationUnknown)
            return RetrieveReply(status: .moveDestinationUnknown, errorComment: "move destination is not a configured node")
        }
        if moveDestinationRefusal(node, association) != nil {
            GatewayMetrics.retrieve("move", status: .moveDestinationUnknown)
            return RetrieveReply(status: .moveDestinationUnknown, errorComment: "move destination not allowed for this AE title")
        }
        let fetchProblem = pullThrough(identifier, association: association, responder: responder)
        // The destination gets the Patient IDs it knows (its own patients', or the network's).
        let view = NetworkView(index: index, configuration: configuration, node: node, logger: logger)
        let instances: [InstanceRecord]
        switch selection(identifier, view: view) {
        case .failure(let reply): return reply
        case .success(let found): instances = found
        }
        var counts = SubOperationCounts(remaining: instances.count)
        if !instances.isEmpty { worklistRetrieveStarted(identifier, association: association, how: "C-MOVE") }
        if instances.isEmpty {
            if let fetchProblem { return RetrieveReply(status: .outOfResourcesSubOperations, counts: counts, errorComment: fetchProblem) }
            return RetrieveReply(status: .success, counts: counts)
        }
        let contexts = PresentationContextProposal.forStorage(of: instances.map {
            DicomFileInfo(sopClassUID: $0.sopClassUID, sopInstanceUID: $0.sopUID, transferSyntaxUID: $0.transferSyntax,
                          studyInstanceUID: "", seriesInstanceUID: "")
        })
        let association2: DicomAssociation
        do {
            association2 = try DicomAssociation.open(
                to: address, callingAE: configuration.gateway.aeTitle, contexts: Array(contexts.prefix(128)))
        } catch {
            logger.error("C-MOVE failed: cannot associate with the destination", metadata: meta(association, ["destination": "\(node.name)", "error": "\(error)"]))
            counts.failed = instances.count
            counts.remaining = 0
            GatewayMetrics.retrieve("move", status: .outOfResourcesSubOperations)
            return RetrieveReply(status: .outOfResourcesSubOperations, counts: counts, errorComment: "cannot associate with \(node.aeTitle)",
                                 failedSOPInstanceUIDs: instances.map(\.sopUID))
        }
        var aborted = false
        var failed: [String] = []
        for instance in instances {
            if aborted || isQuarantined(instance) { counts.failed += 1; counts.remaining -= 1; failed.append(instance.sopUID); continue }
            do {
                let result = try CrashJournal.during(.retrieve(instanceID: instance.id ?? 0, caller: association.callingAE)) {
                    () throws(DicomNetworkError) in
                    // Inside the journal: making the copy parses the file too.
                    let file = try view.outgoingFile(for: instance, paths: paths)
                    defer { if file.isCopy { try? FileManager.default.removeItem(atPath: file.path) } }
                    return try association2.store(
                        file: file.path, priority: request.priority,
                        moveOriginator: (try? AETitle(association.callingAE)).map { ($0, request.messageID) })
                }
                switch result.status.category {
                case .success: counts.completed += 1
                case .warning: counts.warning += 1
                default: counts.failed += 1; failed.append(instance.sopUID)
                }
            } catch {
                counts.failed += 1
                failed.append(instance.sopUID)
                if error.code != .noPresentationContext && error.code != .file { aborted = true }
            }
            counts.remaining -= 1
            if counts.remaining > 0, responder.pending(counts) != .proceed {
                association2.abort()
                return RetrieveReply(status: .cancelled, counts: counts, failedSOPInstanceUIDs: failed)
            }
        }
        if aborted { association2.abort() } else { association2.release() }
        index.touch(studyUIDs: Set(identifier.string(.studyInstanceUID).map { [$0] } ?? []))
        let reply = finalReply(counts, failed: failed)
        logger.info("C-MOVE finished", metadata: meta(association, ["destination": "\(node.name)", "counts": "\(counts)"]))
        var context = retrieveAuditContext(identifier)
        context?.destinationAE = node.aeTitle.value
        context?.destinationHost = address.host
        index.audit(AuditRecord(event: "retrieve", actor: association.callingAE, peer: association.peerHost,
                                studyUID: identifier.string(.studyInstanceUID), outcome: reply.status.hex,
                                detail: "C-MOVE to \(node.aeTitle): \(counts)"), context: context)
        GatewayMetrics.retrieve("move", status: reply.status)
        return reply
    }

    public func get(_ request: QueryRequest, identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder)
        -> RetrieveReply
    {
        if refusal(.get, association) != nil {
            return RetrieveReply(status: .refusedNotAuthorized, errorComment: "C-GET not allowed for this AE title")
        }
        if let problem = QueryKeyLimits.problem(identifier) {
            let refused = refuseQuery(problem, event: "retrieve", identifier: identifier, association: association)
            return RetrieveReply(status: refused.status, errorComment: refused.errorComment)
        }
        let fetchProblem = pullThrough(identifier, association: association, responder: responder)
        let view = NetworkView(index: index, configuration: configuration, node: configuration.node(forCallingAE: association.callingAE),
                               logger: logger)
        let instances: [InstanceRecord]
        switch selection(identifier, view: view) {
        case .failure(let reply): return reply
        case .success(let found): instances = found
        }
        if instances.isEmpty, let fetchProblem {
            return RetrieveReply(status: .outOfResourcesSubOperations, errorComment: fetchProblem)
        }
        var counts = SubOperationCounts(remaining: instances.count)
        if !instances.isEmpty { worklistRetrieveStarted(identifier, association: association, how: "C-GET") }
        var failed: [String] = []
        for instance in instances {
            if isQuarantined(instance) {
                counts.failed += 1
                counts.remaining -= 1
                failed.append(instance.sopUID)
                continue
            }
            do {
                let status = try CrashJournal.during(.retrieve(instanceID: instance.id ?? 0, caller: association.callingAE)) {
                    () throws(DicomNetworkError) in
                    let file = try view.outgoingFile(for: instance, paths: paths)
                    defer { if file.isCopy { try? FileManager.default.removeItem(atPath: file.path) } }
                    return try responder.store(file: file.path)
                }
                switch status.category {
                case .success: counts.completed += 1
                case .warning: counts.warning += 1
                default: counts.failed += 1; failed.append(instance.sopUID)
                }
            } catch {
                counts.failed += 1
                failed.append(instance.sopUID)
                if error.code == .associationAborted || error.code == .network { break }
            }
            counts.remaining -= 1
            if counts.remaining > 0, responder.pending(counts) != .proceed {
                return RetrieveReply(status: .cancelled, counts: counts, failedSOPInstanceUIDs: failed)
            }
        }
        index.touch(studyUIDs: Set(identifier.string(.studyInstanceUID).map { [$0] } ?? []))
        let reply = finalReply(counts, failed: failed)
        index.audit(AuditRecord(event: "retrieve", actor: association.callingAE, peer: association.peerHost,
                                studyUID: identifier.string(.studyInstanceUID), outcome: reply.status.hex, detail: "C-GET: \(counts)"),
                    context: retrieveAuditContext(identifier))
        GatewayMetrics.retrieve("get", status: reply.status)
        return reply
    }

    /// Pull-through: a study-level (or lower) retrieve of a study that is not (completely) cached
    /// fetches it from the source that holds it first, at stat priority, while the requester
    /// hears pending responses. Returns why the fetch failed, if it did (what is cached is still served).
    private func pullThrough(_ identifier: DicomAttributes, association: AssociationInfo, responder: RetrieveResponder) -> String? {
        guard let federation, let levelText = identifier.string(.queryRetrieveLevel), levelText.uppercased() != "PATIENT",
              let studyUID = identifier.string(.studyInstanceUID), !studyUID.isEmpty, !studyUID.contains("\\"),
              !studyUID.contains("*"), !studyUID.contains("?")
        else { return nil }
        let problem = federation.ensureCached(studyUID: studyUID) { responder.pending(SubOperationCounts()) == .proceed }
        if let problem {
            logger.warning("pull-through failed; serving what is cached", metadata: meta(association, [
                "study_instance_uid": "\(studyUID)", "error": "\(problem)"]))
        }
        return problem
    }

    /// The instances a C-MOVE/C-GET identifier selects, or the reply refusing it.
    private enum Selection {
        case failure(RetrieveReply)
        case success([InstanceRecord])
    }

    private func selection(_ identifier: DicomAttributes, view: NetworkView) -> Selection {
        guard let levelText = identifier.string(.queryRetrieveLevel), let level = QueryLevel(rawValue: levelText.uppercased()) else {
            return .failure(RetrieveReply(status: .identifierDoesNotMatchSOPClass, errorComment: "QueryRetrieveLevel missing or invalid"))
        }
        do {
            // A network Patient ID selects the trust patients behind it.
            var seen = Set<Int64>()
            return .success(try view.localQueries(identifier)
                .flatMap { try index.instances(level: level, identifier: $0.identifier, patientIssuer: $0.patientIssuer) }
                .filter { seen.insert($0.id ?? -1).inserted })
        } catch {
            return .failure(RetrieveReply(status: .unableToProcess, errorComment: "index lookup failed"))
        }
    }

    /// Success only when nothing failed; 0xA702 when nothing was delivered; else 0xB000. The
    /// failed instances are listed in the final response (Failed SOP Instance UID List).
    private func finalReply(_ counts: SubOperationCounts, failed: [String]) -> RetrieveReply {
        var final = counts
        final.remaining = 0
        if counts.failed == 0 && counts.warning == 0 { return RetrieveReply(status: .success, counts: final) }
        if counts.completed == 0 && counts.warning == 0 {
            return RetrieveReply(status: .outOfResourcesSubOperations, counts: final, errorComment: "no sub-operation succeeded",
                                 failedSOPInstanceUIDs: failed)
        }
        return RetrieveReply(status: .subOperationsCompleteWithFailures, counts: final, failedSOPInstanceUIDs: failed)
    }

    /// A query or retrieve whose keys break `QueryKeyLimits`: refused (0xC000 range), logged and audited.
    func refuseQuery(_ problem: String, event: String, identifier: DicomAttributes, association: AssociationInfo) -> DIMSEResult {
        logger.warning("\(event) refused: \(problem)", metadata: meta(association, [:]))
        index.audit(AuditRecord(event: event, actor: association.callingAE, peer: association.peerHost,
                                outcome: DIMSEStatus.unableToProcess.hex, detail: problem),
                    context: AuditContext(queryIdentifier: QueryIdentifierEncoding.implicitVRLittleEndian(identifier)))
        return DIMSEResult(status: .unableToProcess, errorComment: problem)
    }

    /// A quarantined instance (it crashed the gateway, or breaks the input limits) is never sent:
    /// its sub-operation fails and it is listed in the final response.
    func isQuarantined(_ instance: InstanceRecord) -> Bool {
        guard let id = instance.id else { return false }
        var state = index.limitsState(instanceID: id)
        if !state.checked {
            // Cached before the limits existed and not checked yet: check it now, before it is parsed.
            let verdict = DicomFile.checkLimits(paths.absolutePath(relative: instance.path), Gateway.inputLimits(configuration.limits))
            if verdict.isOK {
                try? index.markLimitsChecked(ids: [id])
            } else {
                let reason = "cached before the input limits existed and breaks them: \(verdict.text)"
                _ = try? index.quarantineInstance(id: id, reason: reason)
                index.audit(AuditRecord(event: "quarantine", actor: "gateway", outcome: "instance \(id)", detail: reason))
                state.quarantine = reason
            }
        }
        guard let reason = state.quarantine else { return false }
        logger.warning("retrieve skips a quarantined instance", metadata: ["instance": "\(id)", "reason": "\(reason)"])
        return true
    }

    public func queryRefused(_ request: QueryRequest, association: AssociationInfo, status: DIMSEStatus, reason: String) {
        _ = refuseQuery(reason, event: request.moveDestination == nil ? "query" : "retrieve", identifier: DicomAttributes(),
                        association: association)
    }
}
