import DicomNetwork
import Foundation
import GatewayConfig
import GatewayDICOMweb
import GatewayStore
import Logging

/// The instances a WADO request names, from the cache index, as the caller's node sees them
/// (the identity view: a copy with the network Patient ID where the node knows that one).
struct CacheWADOSource: WADOInstanceSource {
    let index: CacheIndex
    let paths: InstancePath
    let configuration: @Sendable () -> GatewayConfiguration
    let logger: Logger

    func instances(studyUID: String, seriesUID: String?, sopUID: String?, caller: WADOCaller) throws -> [WADOInstance] {
        let found = try index.cachedInstances(studyUID: studyUID, seriesUID: seriesUID, sopUID: sopUID)
        guard !found.isEmpty else { return [] }
        let configuration = configuration()
        let node = caller.node.flatMap { name in configuration.nodes.first { $0.name == name } }
        let view = NetworkView(index: index, configuration: configuration, node: node, logger: logger)
        var instances: [WADOInstance] = []
        do {
            for cached in found {
                let file = try view.outgoingFile(for: cached.instance, paths: paths)
                instances.append(WADOInstance(
                    studyUID: cached.studyUID, seriesUID: cached.seriesUID, sopUID: cached.instance.sopUID,
                    sopClassUID: cached.instance.sopClassUID, transferSyntaxUID: cached.instance.transferSyntax,
                    path: file.path, isCopy: file.isCopy,
                    fingerprint: "\(cached.instance.sha256):\(cached.instance.sizeBytes)", instanceID: cached.instance.id ?? 0))
            }
        } catch {
            release(instances)
            throw error
        }
        index.touch(studyUIDs: Set(found.map(\.studyUID)))
        return instances
    }

    func release(_ instances: [WADOInstance]) {
        for instance in instances where instance.isCopy { try? FileManager.default.removeItem(atPath: instance.path) }
    }
}
