import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GatewayRetrieval
import GatewayStore
import Logging

/// What the Q/R services need from the network of sources: fetch a study that is not cached
/// before a reporter's C-MOVE/C-GET is served (pull-through), and list studies known at the
/// sources for reporters with `federated_query`.
final class Federation: Sendable {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let querier: SourceQuerier
    let fetcher: StudyFetcher
    /// Relevant priors of new studies, fetched at bulk priority.
    let priors: PriorFinder
    let logger: Logger

    init(holder: ConfigurationHolder, index: CacheIndex, querier: SourceQuerier, fetcher: StudyFetcher, logger: Logger) {
        self.holder = holder
        self.index = index
        self.querier = querier
        self.fetcher = fetcher
        self.logger = logger
        priors = PriorFinder(configuration: { [holder] in holder.current }, index: index, querier: querier, fetcher: fetcher,
                             logger: logger)
    }

    /// Sources that can be asked (configured with an address).
    private var sources: [NodeConfig] {
        holder.current.nodes.filter { $0.hasRole(.source) && $0.address != nil }
    }

    /// Makes sure the study is cached before it is served: when it is missing, or the source
    /// that holds it reported more instances than are cached, it is fetched at `stat` priority
    /// (one fetch however many reporters ask). `heartbeat` runs every ~2 s while waiting; return
    /// false to stop waiting. Returns a description of a fetch that failed, nil otherwise.
    func ensureCached(studyUID: String, heartbeat: () -> Bool) -> String? {
        let cached = index.cachedInstanceCount(studyUID: studyUID)
        let configured = Set(sources.map(\.name))
        var holders = index.sourcesHolding(studyUID: studyUID).filter { configured.contains($0.source) }
        if holders.isEmpty && cached == 0 { holders = locate(studyUID: studyUID) }
        guard let holder = holders.first else { return nil }  // nowhere else to look: serve what is cached
        if cached > 0 && cached >= (holder.numberOfInstances ?? 0) { return nil }
        // Another request may have fetched it while the sources were asked.
        let now = index.cachedInstanceCount(studyUID: studyUID)
        if now > cached && now >= (holder.numberOfInstances ?? Int.max) { return nil }
        logger.info("pull-through: study not (completely) cached; fetching it from its source at stat priority",
                    metadata: ["study_instance_uid": "\(studyUID)", "source": "\(holder.source)", "cached": "\(cached)"])
        switch fetcher.fetch(studyUID: studyUID, from: holder.source, priority: .stat, heartbeat: heartbeat) {
        case .complete?, nil: return nil
        case .incomplete(let have, let expected, let detail)?:
            return "only \(have) of \(expected) instances could be fetched from \(holder.source): \(detail)"
        case .failed(let why)?:
            return "cannot fetch from \(holder.source): \(why)"
        }
    }

    /// Asks every source for the study (in parallel) and records who holds it.
    func locate(studyUID: String) -> [SourceStudy] {
        var keys = SourceQueryKeys.study()
        keys[.studyInstanceUID] = studyUID
        let found = fanOut(keys)
        try? index.recordSourceStudies(found)
        return found
    }

    /// Study-level matches at the sources that are not cached, as C-FIND answers: marked
    /// NEARLINE, retrievable from the gateway. Sources are asked live (in parallel, each bounded
    /// by the DIMSE timeout); what they answer is remembered in the catalog.
    ///
    /// `networkPatient`: the identifier's PatientID is a network ID; each source whose issuer has
    /// a patient behind it is asked for that patient by its own ID (others are not asked), and
    /// the answers show the network ID.
    func federatedMatches(_ identifier: DicomAttributes, excluding cachedStudies: Set<String>,
                          networkPatient: (networkID: String, localIDsByIssuer: [String: String])? = nil) -> [DicomAttributes] {
        var keys = SourceQueryKeys.study()
        for (tag, value) in identifier where !value.isEmpty && tag != .queryRetrieveLevel { keys[tag] = value }
        let found = fanOut(keys) { node in
            guard let networkPatient else { return keys }
            guard let issuer = node.issuer, let local = networkPatient.localIDsByIssuer[issuer] else { return nil }
            var own = keys
            own[.patientID] = local
            if own.string(.issuerOfPatientID) != nil { own[.issuerOfPatientID] = issuer }
            return own
        }
        try? index.recordSourceStudies(found)
        var seen = cachedStudies
        var answers: [DicomAttributes] = []
        for study in found where seen.insert(study.studyUID).inserted {
            var answer = DicomAttributes()
            let known = study.attributes
            for (tag, _) in identifier { answer[tag] = known[tag] ?? "" }
            if let networkPatient, identifier[.patientID] != nil { answer[.patientID] = networkPatient.networkID }
            answer[.queryRetrieveLevel] = "STUDY"
            answer[.studyInstanceUID] = study.studyUID
            answer[.retrieveAETitle] = holder.current.gateway.aeTitle.value
            answer[.instanceAvailability] = "NEARLINE"
            answers.append(answer)
        }
        return answers
    }

    /// Runs a study-level C-FIND at every source at once: `keys`, or what `keysFor` gives a
    /// source (nil: that source is not asked).
    private func fanOut(_ keys: DicomAttributes, keysFor: ((NodeConfig) -> DicomAttributes?)? = nil) -> [SourceStudy] {
        let asked: [(NodeConfig, DicomAttributes)] = sources.compactMap { node in
            guard let keysFor else { return (node, keys) }
            return keysFor(node).map { (node, $0) }
        }
        let nodes = asked.map(\.0)
        let results = ResultBox(count: nodes.count)
        let group = DispatchGroup()
        for (i, (node, keys)) in asked.enumerated() {
            // A thread per source: all are asked at once, however many there are.
            group.enter()
            let thread = Thread { [querier, logger] in
                defer { group.leave() }
                do {
                    let matches = try querier.findStudies(at: node, keys: keys)
                    results.set(i, matches.compactMap { SourceStudy(source: node.name, match: $0) })
                } catch {
                    logger.warning("source did not answer a federated C-FIND", metadata: ["source": "\(node.name)", "error": "\(error)"])
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        group.wait()
        return results.all
    }
}

/// Per-source answers of a fan-out, written from several threads.
private final class ResultBox: @unchecked Sendable {
    // Safe: `slots` is only touched under `lock`.
    private let lock = NSLock()
    private var slots: [[SourceStudy]]
    init(count: Int) { slots = Array(repeating: [], count: count) }
    func set(_ i: Int, _ value: [SourceStudy]) { lock.withLock { slots[i] = value } }
    var all: [SourceStudy] { lock.withLock { slots.flatMap { $0 } } }
}
