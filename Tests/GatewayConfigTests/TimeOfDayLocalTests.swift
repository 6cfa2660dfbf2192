import Foundation
import GatewayConfig
import Testing

/// `TimeOfDay.local(at:)` (routing's and the worklist's clock) gives what a Calendar in the
/// machine's time zone gives, without building one per instance.
@Suite struct TimeOfDayLocalTests {
    @Test func localTimeOfDayMatchesTheCalendarInTheMachinesZone() {
        let calendar = Calendar(identifier: .gregorian)
        let base = Date(timeIntervalSince1970: 1_764_892_800)
        for offset in stride(from: 0.0, to: 86_400 * 2, by: 3_599.5) {
            let date = base.addingTimeInterval(offset)
            let parts = calendar.dateComponents(in: TimeZone.current, from: date)
            #expect(TimeOfDay.local(at: date) == TimeOfDay(hour: parts.hour ?? -1, minute: parts.minute ?? -1), "\(date)")
        }
    }
}
