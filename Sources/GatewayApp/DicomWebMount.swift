import Foundation
import GatewayAdmin
import GatewayConfig
import GatewayDICOMweb
import Hummingbird
import Logging
import Synchronization

/// DICOMweb's routes on the HTTP API's listener (`dicomweb.root`), behind its tokens: STOW-RS
/// (`POST {root}/studies[/{study}]`, role `operate`, bodies up to `dicomweb.stow_max_bytes`) and
/// UPS-RS over the reporting worklist (`GET {root}/workitems[/{uid}]`, role `read`;
/// `PUT {root}/workitems/{uid}/state`, role `operate`). A token bound to a node also needs that
/// node's `store` (STOW-RS) or `worklist` (UPS-RS) permission (``DicomWebNodeAccess``).
enum DicomWebMount {
    /// STOW-RS requests are told apart from DICOM associations in the per-request tally.
    private static let nextRequest = Atomic<UInt64>(1 << 62)

    static func routes(_ settings: DicomWebSettings, provider: CacheServiceProvider, worklist: WorklistCoordinator,
                       logger: Logger) -> HTTPMount {
        let root = settings.root
        let ups = UPSService(worklist: DicomWebWorkitems(holder: provider.holder, index: provider.index, coordinator: worklist, logger: logger))
        let limit = Int(clamping: settings.stowMaxBytes.bytes)
        let service = StowService(ingest: DicomWebStowIngest(provider: provider), maxBytes: settings.stowMaxBytes.bytes, logger: logger)
        return HTTPMount(addRoutes: { router in
            func group(_ permission: NodePermission, _ service: String) -> RouterGroup<AdminRequestContext> {
                router.group(RouterPath(root)).nodeAccess(permission, service: service, holder: provider.holder, index: provider.index,
                                                          logger: logger)
            }
            let stow = group(.store, "STOW-RS")
            stow.post("studies") { request, context in
                try await service.store(request, studyUID: nil, caller: caller(context), baseURL: baseURL(request, root: root))
            }
            stow.post("studies/:study") { request, context in
                try await service.store(request, studyUID: try context.parameters.require("study"), caller: caller(context),
                                        baseURL: baseURL(request, root: root))
            }
            let workitems = group(.worklist, "UPS-RS")
            workitems.get("workitems") { request, context in try await ups.search(request, caller: upsCaller(context)) }
            workitems.get("workitems/:uid") { _, context in
                try await ups.retrieve(try context.parameters.require("uid"), caller: upsCaller(context))
            }
            workitems.put("workitems/:uid/state") { request, context in
                // A node-bound token claims as its node (the reporter site), as a token named after the site does.
                try await ups.changeState(request, uid: try context.parameters.require("uid"),
                                          caller: context.tokenNode ?? context.tokenName ?? "http")
            }
        }, bodyLimit: { head in
            guard head.method == .post, let path = head.path, path.hasPrefix(root + "/studies") else { return nil }
            return limit
        })
    }

    static func caller(_ context: AdminRequestContext) -> StowCaller {
        StowCaller(id: nextRequest.add(1, ordering: .relaxed).newValue, name: context.tokenName ?? "http",
                   peer: context.remoteAddress?.ipAddress ?? "?", node: context.tokenNode)
    }

    static func upsCaller(_ context: AdminRequestContext) -> UPSCaller {
        UPSCaller(name: context.tokenName ?? "http", address: context.remoteAddress?.ipAddress ?? "")
    }

    /// Who asks a QIDO-RS or WADO request: the token's name and node, and the client's address.
    static func webCaller(_ context: AdminRequestContext) -> WADOCaller {
        WADOCaller(node: context.tokenNode, name: context.tokenName ?? "http", address: context.remoteAddress?.ipAddress ?? "")
    }

    /// `{root}` as the client reached it (the Host header), for RetrieveURLs.
    static func baseURL(_ request: Request, root: String) -> String {
        let host = request.head.authority ?? "localhost"
        return "\(request.head.scheme ?? "http")://\(host)\(root)"
    }
}
