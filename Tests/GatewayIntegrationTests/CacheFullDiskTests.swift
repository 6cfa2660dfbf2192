import DicomCore
import DicomNetwork
import Foundation
import GatewayConfig
import GRDB
import GatewayStore
import Testing

/// A full disk: stores are refused with a failure status, never acknowledged and lost, and the
/// gateway keeps answering.
@Suite(.serialized) struct CacheFullDiskTests {
    static func instanceRows(_ gw: GatewayUnderTest) throws -> Int {
        try gw.gateway.index.sqliteRead { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM instance") ?? -1 }
    }

    @Test func belowMinFreeSpaceStoresAreRefusedWithOutOfResources() async throws {
        let gw = try await CacheQR.boot("full") { c in c.storage.minFreeSpace = .terabytes(1000) }
        let files = try TestData.study(in: gw.directory.sub("in"), count: 3)
        let (_, out) = try await CacheQR.dcmtk("storescu", ["-v", "-aec", "NETGW", "127.0.0.1", "\(gw.port)"] + files, in: gw.directory)
        #expect(out.contains("Out of Resources") || out.contains("OutOfResources") || out.lowercased().contains("a700"), "\(out)")
        #expect(!out.contains("Received Store Response (Success)"), "\(out)")
        #expect(gw.storedFiles().isEmpty)
        #expect(try Self.instanceRows(gw) == 0)
        #expect(gw.partialFiles().isEmpty, "refused data sets must not be left in incoming/")

        // Our own SCU sees the exact status.
        let outcomes = try await DicomClient(callingAE: "SENDER").store(files: files, to: gw.node)
        #expect(outcomes.count == 3)
        for outcome in outcomes {
            guard case .success(let result) = outcome.result else {
                Issue.record("a refused store must be a DIMSE status, not a transport error: \(outcome.result)")
                continue
            }
            #expect(result.status == .outOfResources, "\(result.status.hex)")
        }
        #expect(await gw.answersEcho(), "a full disk must not stop the gateway answering")
        await gw.stop()
    }

    /// Collects per-file outcomes even when the send ends with a thrown transport error.
    final class Outcomes: @unchecked Sendable {
        // Safe: `items` is only touched under `lock`.
        private let lock = NSLock()
        private var items: [DicomClient.StoreOutcome] = []
        func append(_ o: DicomClient.StoreOutcome) { lock.lock(); items.append(o); lock.unlock() }
        var all: [DicomClient.StoreOutcome] { lock.lock(); defer { lock.unlock() }; return items }
    }

    /// Mounts a 2 MB tmpfs as the cache (index included), sends `count` instances of
    /// `rows` x `rows` 16-bit pixels over one association until the space runs out, and checks:
    /// every acknowledged instance is intact; the first store beyond capacity gets a failure
    /// status (not silence or an abort); the association and the gateway keep working.
    static func fillRealFileSystem(rows: Int, count: Int) async throws {
        let directory = TestDirectory("tmpfs")
        let mountPoint = directory.path + "/cache"
        try CacheTmpfs.mount(mountPoint, size: "72m")  // 64 MiB always stay free: 8 MiB usable
        defer { CacheTmpfs.unmount(mountPoint) }
        let gw = try await CacheQR.boot("tmpfs") { c in
            c.storage = StorageSettings(path: URL(fileURLWithPath: mountPoint))
            c.storage.minFreeSpace = ByteCount(bytes: 0)
            c.gateway.dimseTimeout = .seconds(10)  // a silent gateway shows up in 10 s, not 60
        }
        let files = try TestData.study(in: gw.directory.sub("in"), count: count, rows: rows, columns: rows)
        let client = DicomClient(callingAE: "FILLER", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 20))
        let collected = Outcomes()
        var thrown: Error?
        do {
            _ = try await client.store(files: files, to: gw.node, onEach: { collected.append($0) })
        } catch {
            thrown = error
        }
        let outcomes = collected.all
        let acknowledged = outcomes.filter(\.succeeded)
        #expect(!acknowledged.isEmpty, "some instances fit in the 8 MiB above the free-space floor")

        // 1. Nothing acknowledged is lost or damaged.
        for outcome in acknowledged {
            let row = try #require(try gw.gateway.index.instance(sopUID: outcome.sopInstanceUID),
                                   "\(outcome.sopInstanceUID) was acknowledged but is not indexed")
            let path = gw.storageRoot + "/" + row.path
            let stored = try DicomFile.readAttributes(path).cacheWithoutFileMeta()
            let sent = try DicomFile.readAttributes(outcome.path).cacheWithoutFileMeta()
            #expect(stored == sent, "\(outcome.sopInstanceUID) differs from what was sent")
            #expect(try DatasetDigest.sha256(ofFile: path).digest == row.sha256, "\(outcome.sopInstanceUID) changed on disk")
            #expect(try DatasetDigest.sha256(ofFile: path).size == row.sizeBytes, "\(outcome.sopInstanceUID) is truncated")
        }
        #expect(try Self.instanceRows(gw) == acknowledged.count, "only acknowledged instances may be indexed")

        // 2. The first store beyond capacity is answered with a failure status.
        let firstRefusal = try #require(outcomes.first { !$0.succeeded }, "the file system never reached the free-space floor")
        switch firstRefusal.result {
        case .success(let result):
            #expect(result.status.isFailure, "\(result.status.hex)")
        case .failure(let error):
            Issue.record("the first store beyond capacity (\(acknowledged.count) stored) got no DIMSE status: \(error)")
        }
        // 3. The association survives refusals: every later store gets a status too.
        #expect(thrown == nil, "the association broke after a refusal: \(String(describing: thrown))")
        for outcome in outcomes where !outcome.succeeded {
            if case .failure(let error) = outcome.result {
                Issue.record("\(outcome.sopInstanceUID): transport error instead of a status: \(error)")
                break
            }
        }
        // 4. The gateway still answers, and still refuses with a status on a new association.
        #expect(await gw.answersEcho(), "a full disk must not stop the gateway answering")
        let extra = try TestData.study(in: gw.directory.sub("extra"), count: 1, rows: rows, columns: rows)
        do {
            let again = try await client.store(files: extra, to: gw.node)
            if case .success(let result) = again.first?.result {
                #expect(result.status.isFailure, "still full: \(result.status.hex)")
            } else {
                Issue.record("a store on a new association got no status: \(String(describing: again.first?.result))")
            }
        } catch {
            Issue.record("a store on a new association to the full gateway got no status: \(error)")
        }
        #expect(gw.partialFiles().isEmpty, "refused data sets must not be left in incoming/")
        await gw.stop()
    }

    /// A write that fails while the data set arrives (here: `files/`, where prepared files are, and
    /// `incoming/` are 1 MiB tmpfs of their own, so the free-space check on the cache sees room, and
    /// a 2 MiB instance cannot be written) is refused with 0xA700 once the rest of the data set is
    /// read, and the association goes on.
    @Test(.enabled(if: CacheTmpfs.canMount, "mount -t tmpfs is not permitted in this sandbox"))
    func aWriteThatFailsWhileReceivingIsRefusedAndTheAssociationGoesOn() async throws {
        let directory = TestDirectory("incoming-full")
        let root = directory.path + "/cache"
        try CacheTmpfs.mount(root + "/incoming", size: "1m")
        defer { CacheTmpfs.unmount(root + "/incoming") }
        try CacheTmpfs.mount(root + "/files", size: "1m")
        defer { CacheTmpfs.unmount(root + "/files") }
        let gw = try await CacheQR.boot("incoming-full") { c in
            c.storage = StorageSettings(path: URL(fileURLWithPath: root))
            c.storage.minFreeSpace = ByteCount(bytes: 0)
            c.gateway.dimseTimeout = .seconds(10)  // a gateway waiting for PDVs that never come shows in 10 s
        }
        let big = try TestData.study(in: gw.directory.sub("big"), count: 2, rows: 1024, columns: 1024)
        let client = DicomClient(callingAE: "FILLER", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 20))
        let outcomes = try await client.store(files: big, to: gw.node)
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            switch outcome.result {
            case .success(let result):
                #expect(result.status == .outOfResources, "\(outcome.sopInstanceUID): \(result.status.hex)")
            case .failure(let error):
                Issue.record("\(outcome.sopInstanceUID): transport error instead of 0xA700: \(error)")
            }
        }
        #expect(try Self.instanceRows(gw) == 0)
        #expect(gw.partialFiles().isEmpty, "refused data sets must not be left in incoming/")
        #expect(gw.storedFiles().isEmpty, "refused data sets must not be left in prepared files: \(gw.storedFiles())")
        #expect(await gw.answersEcho())
        await gw.stop()
    }

    /// Instances of about 32 KB: each data set fits in one PDV.
    @Test(.enabled(if: CacheTmpfs.canMount, "mount -t tmpfs is not permitted in this sandbox"))
    func smallInstancesOnARealFullFileSystemAreRefusedWithAStatusAndNoneLost() async throws {
        try await Self.fillRealFileSystem(rows: 128, count: 400)
    }

    /// Instances of about 512 KB: each data set spans several PDVs.
    @Test(.enabled(if: CacheTmpfs.canMount, "mount -t tmpfs is not permitted in this sandbox"))
    func largeInstancesOnARealFullFileSystemAreRefusedWithAStatusAndNoneLost() async throws {
        try await Self.fillRealFileSystem(rows: 512, count: 24)
    }
}
