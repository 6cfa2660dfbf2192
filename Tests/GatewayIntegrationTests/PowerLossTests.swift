import Foundation
import Testing

/// Nothing acknowledged is lost when the power goes: the gateway's storage on lossyfs (a disk
/// that loses everything not fsync'd), the power cut at random moments while it receives,
/// commits, replaces duplicates and forwards, the gateway killed -9 at the same instant and
/// restarted on what survived. After every cut: each acknowledged instance is filed with the
/// acknowledged bytes, indexed and has its worklist item; no index row names a missing file. At
/// the end: each is retrievable by C-GET and has reached the forwarding destination.
///
/// POWER_LOSS_TRIALS sets the number of trials (default 8, about 30 s here);
/// scripts/bench/power-loss runs many. POWER_LOSS_TORN=P cuts in lossyfs's torn mode.
@Suite(.serialized) struct PowerLossTests {
    @Test func powerCutsLoseNoAcknowledgedInstanceNorDelivery() async throws {
        let env = ProcessInfo.processInfo.environment
        let trials = env["POWER_LOSS_TRIALS"].flatMap { Int($0) } ?? 8
        let torn = env["POWER_LOSS_TORN"].flatMap { Double($0) } ?? 0
        let perRig = 10  // a fresh disk every 10 trials keeps each check's work bounded
        var done = 0, acknowledged = 0, interrupted = 0, outstanding = 0, problems: [String] = []
        while done < trials {
            let rig = try PowerLossRig(label: "powerloss", torn: torn)
            for n in done..<min(trials, done + perRig) {
                try await rig.trial(n + 1)
                print("power loss: after trial \(n + 1): \(rig.summary)")
            }
            try await rig.finish()
            done += rig.stats.trials
            acknowledged += rig.stats.acknowledged
            interrupted += rig.stats.interrupted
            outstanding += rig.stats.deliveriesOutstanding
            problems += rig.problems
        }
        print("power loss summary: \(done) trials\(torn > 0 ? " (torn \(torn))" : ""), \(acknowledged) acknowledged stores, "
              + "\(interrupted) senders cut mid-study, \(outstanding) restarts with deliveries outstanding, \(problems.count) problems")
        for problem in problems.prefix(50) { Issue.record(Comment(rawValue: problem)) }
        #expect(acknowledged > 0, "nothing was acknowledged: the trials proved nothing")
        #expect(interrupted > 0, "no cut came while a sender was sending: the trials proved nothing")
    }
}
