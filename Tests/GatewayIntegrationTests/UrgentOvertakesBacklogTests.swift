import DicomCore
import DicomNetwork
import Foundation
import Testing

/// The point of the product: a stat study overtakes a routine backlog on a link, and arrives
/// nearly as fast as on an idle gateway. storescu -> gateway -> storescp, real processes.
@Suite(.serialized) struct UrgentOvertakesBacklogTests {
    /// With one association to the destination the routine batch is cut short; with two, one is
    /// kept for stat/urgent work.
    @Test(arguments: [1, 2])
    func statStudyOvertakesTwoThousandRoutineInstancesWithinTwiceItsIdleTime(associations: Int) async throws {
        let dir = TestDirectory("overtake")
        let hubPort = Net.freePort()
        let gateway = try GatewayProcess(directory: dir, extraYAML: """
            nodes:
              TRUST_A: { ae_title: TRUSTA_PACS, roles: [source] }
              HUB: { ae_title: HUB_READ, host: 127.0.0.1, port: \(hubPort), roles: [destination], max_associations: \(associations) }
            priorities:
              - { class: stat, when: { Modality: CT, StudyDescription: "~(?i)stroke" } }
            routes:
              - { name: all-to-hub, from: [TRUST_A], to: [HUB] }
            """)
        try gateway.start()
        let routine = try TestData.study(in: dir.sub("routine"), count: 2000, description: "CT chest routine")
        let routineStudy = try DicomFile.probe(routine[0]).studyInstanceUID
        let (s1, o1) = try DCMTK.run("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + routine,
                                     in: dir, timeout: 300)
        try #require(s1 == 0, "\(o1.suffix(2000))")

        // The destination comes up with 2,000 routine instances queued for it; the stat study follows.
        let received = dir.sub("hub")
        // A destination allowed two associations must accept two at once: storescp --fork does.
        let hub = PeerProcess("storescp", (associations > 1 ? ["--fork"] : []) + ["-aet", "HUB_READ", "-od", received, "\(hubPort)"],
                              logDirectory: dir.path)
        try hub.start()
        defer { hub.stop() }
        // Timed from when the destination listens: how long storescp takes to start is not the
        // gateway's. The gateway backs off a failing destination (up to a minute when no work
        // comes), and new stat work cuts that short: the stat study's arrival brings it back.
        try #require(Net.waitForListener(hubPort), "storescp did not listen on \(hubPort)")
        let stat = try TestData.study(in: dir.sub("stat1"), count: 50, description: "CT head stroke pathway", rows: 256, columns: 256)
        let underBacklog = try timeToDeliver(stat, via: gateway, into: received, in: dir, otherStudy: routineStudy)
        #expect(underBacklog.otherAtArrival < 2000,
                "the stat study arrived only after the whole routine backlog (\(underBacklog.otherAtArrival) routine delivered)")

        // Drain the backlog, then time an identical stat study on the idle gateway.
        let drained = Arrivals.wait(in: received, timeout: 180) { $0.filter { $0.contains(routineStudy) }.count >= 2000 }
        #expect(drained, "the routine backlog was not delivered; gateway log:\n\(gateway.peer?.output.suffix(3000) ?? "")")
        let stat2 = try TestData.study(in: dir.sub("stat2"), count: 50, description: "CT head stroke pathway", rows: 256, columns: 256)
        let idle = try timeToDeliver(stat2, via: gateway, into: received, in: dir, otherStudy: routineStudy)
        #expect(underBacklog.seconds <= 2 * idle.seconds,
                "stat under a 2,000-instance backlog took \(underBacklog.seconds) s, idle \(idle.seconds) s (more than 2x); gateway log:\n\(gateway.peer?.output.suffix(6000) ?? "")")
        print("associations \(associations): stat under backlog \(underBacklog.seconds) s with \(underBacklog.otherAtArrival) routine delivered first; idle \(idle.seconds) s")
        #expect(gateway.terminate() == 0)
    }

    /// Sends `files` (one study) with storescu and times until all of them are at the destination.
    func timeToDeliver(_ files: [String], via gateway: GatewayProcess, into received: String, in dir: TestDirectory,
                       otherStudy: String) throws -> (seconds: Double, otherAtArrival: Int) {
        let study = try DicomFile.probe(files[0]).studyInstanceUID
        let start = Date()
        let sender = PeerProcess("storescu", ["-aet", "TRUSTA_PACS", "-aec", "NETGW", "127.0.0.1", "\(gateway.port)"] + files,
                                 logDirectory: dir.path)
        try sender.start()
        var other = 0
        let arrived = Arrivals.wait(in: received, timeout: 120, poll: 0.01) { names in
            guard names.filter({ $0.contains(study) }).count >= files.count else { return false }
            other = names.filter { $0.contains(otherStudy) }.count
            return true
        }
        let seconds = Date().timeIntervalSince(start)
        #expect(sender.wait(timeout: 60) == 0, "storescu failed: \(sender.output.suffix(1000))")
        try #require(arrived, "the study did not arrive within 120 s; gateway log:\n\(gateway.peer?.output.suffix(3000) ?? "")")
        return ((seconds * 1000).rounded() / 1000, other)
    }
}

/// Polls a receiving directory.
enum Arrivals {
    static func wait(in directory: String, timeout: Double, poll: Double = 0.1, until done: ([String]) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if done((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []) { return true }
            Thread.sleep(forTimeInterval: poll)
        }
        return false
    }
}
