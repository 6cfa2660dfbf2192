import Foundation
import Testing

/// SQLite in WAL mode on lossyfs: with synchronous=FULL every committed row survives power cuts
/// during commits (and checkpoints); with synchronous=OFF rows are lost, which proves the model
/// bites. The writer is Python's sqlite3 module from the project's peer interpreter.
@Suite(.serialized) struct LossyFSSQLiteTests {
    /// Commits one row per transaction and prints its id once COMMIT has returned.
    static let writer = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1], isolation_level=None)
        assert db.execute("PRAGMA journal_mode=WAL").fetchone()[0] == "wal"
        db.execute("PRAGMA synchronous=" + sys.argv[2])
        db.execute("PRAGMA wal_autocheckpoint=50")  # checkpoints (and WAL resets) happen during the test
        db.execute("CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)")
        i = db.execute("SELECT coalesce(max(id), 0) FROM t").fetchone()[0]
        limit = int(sys.argv[3])
        while i < limit:
            i += 1
            db.execute("BEGIN")
            db.execute("INSERT INTO t VALUES (?, randomblob(2000 + ? % 5000))", (i, i))
            db.execute("COMMIT")
            print("ack", i, flush=True)
        """

    static let reader = """
        import sqlite3, sys
        db = sqlite3.connect(sys.argv[1])
        print("integrity", db.execute("PRAGMA integrity_check").fetchone()[0])
        try:
            print("ids", " ".join(str(r[0]) for r in db.execute("SELECT id FROM t ORDER BY id")))
        except sqlite3.OperationalError as e:  # the table itself was never made durable
            print("ids", "", "#", e)
        """

    struct Survivors {
        let integrity: String
        let ids: Set<Int>
    }

    private func acknowledged(_ writer: PeerProcess) -> [Int] {
        writer.output.split(separator: "\n").compactMap { line in
            line.hasPrefix("ack ") ? Int(line.dropFirst(4)) : nil
        }
    }

    private func survivors(_ db: String, dir: TestDirectory) throws -> Survivors {
        let p = try PythonPeer.process(dir.path + "/reader.py", [db], logDirectory: dir.path)
        let (status, output) = try p.run(timeout: 60)
        guard status == 0 else { throw TestFailure("reading \(db) failed:\n\(output)") }
        var integrity = "", ids = Set<Int>()
        for line in output.split(separator: "\n") {
            if line.hasPrefix("integrity ") { integrity = String(line.dropFirst(10)) }
            if line.hasPrefix("ids ") { ids = Set(line.dropFirst(4).split(separator: " ").compactMap { Int($0) }) }
        }
        return Survivors(integrity: integrity, ids: ids)
    }

    /// Runs the writer until it has `acks` acknowledged commits (then a random extra moment), and
    /// cuts the power with the writer killed -9 at the same instant.
    private func commitThenCut(_ fs: LossyMount, dir: TestDirectory, synchronous: String, acks: Int) throws -> [Int] {
        let writer = try PythonPeer.process(dir.path + "/writer.py", [fs.path("index.sqlite"), synchronous, "1000000"],
                                            logDirectory: dir.path)
        try writer.start()
        let deadline = Date().addingTimeInterval(30)
        while acknowledged(writer).count < acks && writer.process.isRunning && Date() < deadline { usleep(2_000) }
        usleep(UInt32.random(in: 0...30_000))
        fs.cutPower(killing: [writer])
        let acked = acknowledged(writer)
        if acked.isEmpty { throw TestFailure("the SQLite writer acknowledged nothing:\n\(writer.output.suffix(2000))") }
        try fs.mount()
        return acked
    }

    private func scripts(_ dir: TestDirectory) throws {
        try Self.writer.write(toFile: dir.path + "/writer.py", atomically: true, encoding: .utf8)
        try Self.reader.write(toFile: dir.path + "/reader.py", atomically: true, encoding: .utf8)
    }

    @Test func walWithSynchronousFullKeepsEveryCommittedRowAcrossPowerCuts() throws {
        try fullKeepsEveryCommittedRow(cuts: 25, torn: 0)
    }

    /// The same when each unsynced page, size change and directory may also survive (torn mode):
    /// what SQLite did not sync can be any mixture of old and new, and it still recovers.
    @Test func walWithSynchronousFullSurvivesTornWriteBack() throws {
        try fullKeepsEveryCommittedRow(cuts: 15, torn: 0.5)
    }

    private func fullKeepsEveryCommittedRow(cuts: Int, torn: Double) throws {
        let dir = TestDirectory("lossyfs-sqlite-full")
        try scripts(dir)
        let fs = LossyMount(directory: dir, torn: torn)
        try fs.mount()
        var everAcknowledged = Set<Int>()
        for cut in 1...cuts {
            everAcknowledged.formUnion(try commitThenCut(fs, dir: dir, synchronous: "FULL", acks: Int.random(in: 1...120)))
            let after = try survivors(fs.path("index.sqlite"), dir: dir)
            #expect(after.integrity == "ok", "cut \(cut): integrity_check says \(after.integrity)")
            let lost = everAcknowledged.subtracting(after.ids)
            #expect(lost.isEmpty, "cut \(cut): \(lost.count) committed rows lost, e.g. \(lost.sorted().prefix(10))")
        }
        #expect(everAcknowledged.count >= cuts)
    }

    @Test func walWithSynchronousOffLosesCommittedRows() throws {
        let dir = TestDirectory("lossyfs-sqlite-off")
        try scripts(dir)
        let fs = LossyMount(directory: dir)
        try fs.mount()
        // The database and its table are made durable first (FULL), then commits run without syncs.
        let created = try commitThenCut(fs, dir: dir, synchronous: "FULL", acks: 5)
        #expect(try survivors(fs.path("index.sqlite"), dir: dir).ids.isSuperset(of: created))
        let unsynced = try commitThenCut(fs, dir: dir, synchronous: "OFF", acks: 50)
        let after = try survivors(fs.path("index.sqlite"), dir: dir)
        #expect(after.integrity == "ok", "integrity_check says \(after.integrity)")
        let lost = Set(unsynced).subtracting(after.ids)
        #expect(!lost.isEmpty, "synchronous=OFF lost nothing of \(unsynced.count) commits: the model does not bite")
    }
}
