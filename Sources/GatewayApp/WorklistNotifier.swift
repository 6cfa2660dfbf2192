import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayStore
import Logging
import ServiceLifecycle

/// Sends the worklist's notifications (overdue, orphan, reallocated) to `reporting.notify.webhook`
/// as JSON POSTs, oldest first, until the receiver answers 2xx; a receiver that is down is
/// retried with backoff (5 s doubling to 5 min) and blocks nothing else: the notifications wait
/// durably in the index's outbox. Without a webhook they are marked as not sent and kept.
struct WorklistNotifier: Service {
    let holder: ConfigurationHolder
    let index: CacheIndex
    let logger: Logger

    func run() async throws {
        let session = URLSession(configuration: .ephemeral)
        defer { session.finishTasksAndInvalidate() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let pending = (try? index.dueWorklistNotifications()) ?? []
            for notification in pending {
                if Task.isShuttingDownGracefully { break }
                await send(notification, session: session)
            }
            try? await gracefulSleep(.milliseconds(pending.isEmpty ? 500 : 50))
        }
    }

    private func send(_ notification: WorklistNotification, session: URLSession) async {
        guard let url = holder.current.reporting.webhook else {
            try? index.worklistNotificationSent(notification.id, note: "no webhook configured")
            return
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("dicom-gateway", forHTTPHeaderField: "User-Agent")
        request.httpBody = Data(notification.payload.utf8)
        let problem: String
        do {
            let (_, response) = try await session.data(for: request)
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            if (200..<300).contains(status) {
                try? index.worklistNotificationSent(notification.id)
                logger.info("worklist notification sent", metadata: [
                    "event": "\(notification.event)", "notification": "\(notification.id)", "status": "\(status)"])
                return
            }
            problem = "the webhook answered HTTP \(status)"
        } catch {
            problem = "the webhook could not be reached: \(error.localizedDescription)"
        }
        let delay = min(300, 5 * pow(2, Double(min(notification.attempts, 10))))
        try? index.worklistNotificationFailed(notification.id, error: problem, retryAt: Date().addingTimeInterval(delay))
        logger.warning("worklist notification not accepted; retrying", metadata: [
            "event": "\(notification.event)", "notification": "\(notification.id)", "error": "\(problem)",
            "retry_in_seconds": "\(Int(delay))", "webhook_host": "\(url.host ?? "")"])
    }
}
