import Foundation
import GatewayConfig
import GatewayStore

/// The JSON shapes of the API. Field names become snake_case keys.
enum APIViews {
    struct Health: Encodable {
        var status: String
        var aeTitle: String
        var dicomPort: Int
        var index: String
        /// `sqlite` or `postgresql` (several nodes on one database).
        var indexEngine: String
        /// This node's name (`cluster.node_id`).
        var node: String
        /// Whether the cache directory can be written ("ok", or why not).
        var storage: String
        var uptimeSeconds: Int
        var lastReload: Reload?
    }

    /// One gateway node sharing the index (`/api/v1/cluster`).
    struct ClusterNode: Encodable {
        var node: String
        var leader: Bool
        var alive: Bool
        var startedAt: Date
        var heartbeatAt: Date
        var address: String
        var deliveriesInFlight: Int
        var slots: [String]
        var fetching: Int
    }

    struct Reload: Encodable {
        var time: Date
        var succeeded: Bool
        var errors: [String]
        var needsRestart: [String]

        init(_ report: ReloadReport) {
            time = report.time
            succeeded = report.succeeded
            errors = report.errors
            needsRestart = report.needsRestart
        }
    }

    struct QueueRow: Encodable {
        var destination: String
        var `class`: String
        var state: String
        var count: Int
        var oldestAgeSeconds: Int

        init(_ depth: QueueDepth, now: Date) {
            destination = depth.destination
            `class` = PriorityClass.name(ofRank: depth.priorityRank)
            state = depth.state
            count = depth.count
            oldestAgeSeconds = max(0, Int(now.timeIntervalSince(depth.oldest)))
        }
    }

    struct Node: Encodable {
        var name: String
        var aeTitle: String
        var host: String?
        var port: Int?
        var roles: [String]
        var issuer: String?
        var maxAssociations: Int
        /// Deliveries to this node waiting to be sent (queued, in flight, failed; dead ones are counted apart).
        var waiting: Int
        var dead: Int
        /// Deliveries of instances that crashed the gateway or break the input limits: never retried by themselves.
        var quarantined: Int
        var oldestWaitingAgeSeconds: Int?
    }

    struct Delivery: Encodable {
        var id: Int64
        var destination: String
        var route: String
        var `class`: String
        var state: String
        var attempts: Int
        var lastError: String
        var createdAt: Date
        var updatedAt: Date
        var studyInstanceUid: String
        var seriesInstanceUid: String
        var sopInstanceUid: String

        init(_ d: DeliveryListing) {
            id = d.id
            destination = d.destination
            route = d.route
            `class` = PriorityClass.name(ofRank: d.priorityRank)
            state = d.state
            attempts = d.attempts
            lastError = d.lastError
            createdAt = d.createdAt
            updatedAt = d.updatedAt
            studyInstanceUid = d.studyUID
            seriesInstanceUid = d.seriesUID
            sopInstanceUid = d.sopUID
        }
    }

    struct Study: Encodable {
        var studyInstanceUid: String
        var studyDate: String
        var modalities: String
        var studyDescription: String
        var originNode: String?
        var seriesCount: Int
        var instanceCount: Int
        var sizeBytes: Int64
        var receivedAt: Date
        var updatedAt: Date
        var undelivered: Int
        var dead: Int
        /// Only when `http.patient_data` is true.
        var patient: Patient?

        init(_ s: StudyListing, patientData: Bool) {
            studyInstanceUid = s.studyUID
            studyDate = s.studyDate
            modalities = s.modalities
            studyDescription = s.studyDescription
            originNode = s.originNode
            seriesCount = s.seriesCount
            instanceCount = s.instanceCount
            sizeBytes = s.sizeBytes
            receivedAt = s.receivedAt
            updatedAt = s.updatedAt
            undelivered = s.undelivered
            dead = s.dead
            patient = patientData ? Patient(patientId: s.patientID, patientName: s.patientName, issuer: s.issuer, accessionNumber: s.accessionNumber) : nil
        }
    }

    struct Patient: Encodable {
        var patientId: String
        var patientName: String
        var issuer: String
        var accessionNumber: String
    }

    struct StudyDetail: Encodable {
        var studyInstanceUid: String
        var studyDate: String
        var modalities: String
        var studyDescription: String
        var originNode: String?
        var originAeTitle: String
        var seriesCount: Int
        var instanceCount: Int
        var sizeBytes: Int64
        var receivedAt: Date
        var updatedAt: Date
        var deliveries: [DeliveryCount]
        var events: [Event]
        var patient: Patient?

        init(_ s: StudySummary, patientData: Bool) {
            studyInstanceUid = s.study.studyUID
            studyDate = s.study.studyDate
            modalities = s.study.modalities
            studyDescription = s.study.studyDescription
            originNode = s.originNode
            originAeTitle = s.study.originAE
            seriesCount = s.study.seriesCount
            instanceCount = s.study.instanceCount
            sizeBytes = s.study.sizeBytes
            receivedAt = s.study.receivedAt
            updatedAt = s.study.updatedAt
            deliveries = s.deliveries.map { DeliveryCount(destination: $0.destination, state: $0.state, count: $0.count) }
            events = s.events.map { Event(event: $0.event, node: $0.node, time: $0.time, detail: $0.detail) }
            patient = patientData
                ? Patient(patientId: s.patient.patientID, patientName: s.patient.patientName, issuer: s.patient.issuer,
                          accessionNumber: s.study.accessionNumber)
                : nil
        }
    }

    struct DeliveryCount: Encodable {
        var destination: String
        var state: String
        var count: Int
    }

    struct Event: Encodable {
        var event: String
        var node: String
        var time: Date
        var detail: String
    }

    struct Audit: Encodable {
        var id: Int64?
        var time: Date
        var event: String
        var actor: String
        var peer: String
        var studyInstanceUid: String?
        var outcome: String
        var detail: String

        init(_ a: AuditRecord) {
            id = a.id
            time = a.time
            event = a.event
            actor = a.actor
            peer = a.peer
            studyInstanceUid = a.studyUID
            outcome = a.outcome
            detail = a.detail
        }
    }

    struct Count: Encodable {
        var changed: Int
    }
}
