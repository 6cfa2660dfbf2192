import GatewayConfig
import Testing
@testable import GatewayApp

/// How long a refused delivery waits before its next try.
@Suite struct DeliveryBackoffTests {
    let settings = DeliverySettings()  // retry_initial 5 s, retry_max 10 min

    @Test func routineRetriesDoubleFromTheInitialDelayWithJitter() {
        for _ in 0..<50 {
            #expect((4.0...5.0).contains(DeliveryWorker.backoff(0, settings, rank: 1)))
            #expect((8.0...10.0).contains(DeliveryWorker.backoff(1, settings, rank: 1)))
            #expect((480.0...600.0).contains(DeliveryWorker.backoff(12, settings, rank: 1)), "capped at retry_max")
        }
    }

    @Test func statAndUrgentRetryTheirFirstFailureWithinASecondThenBackOffAsUsual() {
        for rank in [2, 3] {
            for _ in 0..<50 {
                #expect((0.8...1.0).contains(DeliveryWorker.backoff(0, settings, rank: rank)))
                #expect((8.0...10.0).contains(DeliveryWorker.backoff(1, settings, rank: rank)))
            }
        }
    }
}
