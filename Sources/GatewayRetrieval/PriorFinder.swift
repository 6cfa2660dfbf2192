import DicomCore
import Foundation
import GatewayConfig
import GatewayStore
import Logging

/// When a new study arrives from a source, asks that source for the patient's other studies,
/// picks the relevant priors (`priors:` settings), and fetches them at `bulk` priority; their
/// instances then go where the new study goes (see `CacheIndex.requestPrior`). Runs in the
/// background (at most two searches at a time per source): the C-STORE that brought the study is
/// never held up.
public final class PriorFinder: Sendable {
    let configuration: @Sendable () -> GatewayConfiguration
    let index: CacheIndex
    let querier: SourceQuerier
    let fetcher: StudyFetcher
    let logger: Logger
    private let seen = SeenStudies()
    /// At most two searches at a time per source, whatever the number of new studies.
    private let searches = PerSourceQueue(limit: 2, threadName: "priors")

    public init(configuration: @escaping @Sendable () -> GatewayConfiguration, index: CacheIndex, querier: SourceQuerier,
                fetcher: StudyFetcher, logger: Logger) {
        self.configuration = configuration
        self.index = index
        self.querier = querier
        self.fetcher = fetcher
        self.logger = logger
    }

    /// Called for each stored instance; the first one of a study (per run) starts the search.
    /// `destinations`: where the new study goes, with each destination's identity edits (JSON).
    public func consider(study attributes: DicomAttributes, originNode: String?, destinations: [String: String]) {
        let configuration = configuration()
        let settings = configuration.priors
        guard settings.isEnabled, !destinations.isEmpty, let studyUID = attributes.string(.studyInstanceUID),
              let patientID = attributes.string(.patientID), !patientID.isEmpty,
              let originNode, let node = configuration.node(named: originNode), node.hasRole(.source), node.address != nil,
              seen.insert(studyUID),
              index.priorDestinations(studyUID: studyUID).isEmpty  // a prior's own priors are not wanted
        else { return }
        searches.submit(source: node.name) { [self] in
            self.search(attributes, studyUID: studyUID, patientID: patientID, node: node, destinations: destinations, settings: settings)
        }
    }

    private func search(_ attributes: DicomAttributes, studyUID: String, patientID: String, node: NodeConfig,
                        destinations: [String: String], settings: PriorsSettings) {
        var keys = SourceQueryKeys.study([.patientID: patientID])
        keys[.bodyPartExamined] = ""
        let candidates: [DicomAttributes]
        do {
            candidates = try querier.findStudies(at: node, keys: keys)
        } catch {
            logger.warning("priors: the source did not answer", metadata: ["source": "\(node.name)", "error": "\(error)"])
            return
        }
        let chosen = PriorSelection.choose(from: candidates, newStudy: attributes, settings: settings)
        for prior in chosen {
            guard let priorUID = prior.string(.studyInstanceUID), let study = SourceStudy(source: node.name, match: prior) else { continue }
            do {
                try index.recordSourceStudies([study])
                try index.requestPrior(priorUID, for: studyUID, source: node.name, destinations: destinations)
            } catch {
                logger.error("priors: cannot record the request", metadata: ["error": "\(error)"])
                continue
            }
            if index.cachedInstanceCount(studyUID: priorUID) < (study.numberOfInstances ?? 1) {
                fetcher.enqueue(studyUID: priorUID, from: node.name, priority: .bulk)
            }
        }
        logger.info("priors: chosen for a new study", metadata: [
            "study_instance_uid": "\(studyUID)", "source": "\(node.name)", "candidates": "\(candidates.count)",
            "priors": "\(chosen.count)"])
    }
}

/// Study UIDs already considered in this run (bounded: forgotten in bulk past 100,000).
private final class SeenStudies: @unchecked Sendable {
    // Safe: `uids` is only touched under `lock`.
    private let lock = NSLock()
    private var uids = Set<String>()

    func insert(_ uid: String) -> Bool {
        lock.withLock {
            if uids.count > 100_000 { uids.removeAll() }
            return uids.insert(uid).inserted
        }
    }
}
