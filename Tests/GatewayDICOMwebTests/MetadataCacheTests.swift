import Foundation
import GatewayDICOMweb
import Testing

@Suite struct MetadataCacheTests {
    /// Answers each instance's metadata with its UID and URL, counting the files it reads.
    final class CountingReader: WADOFileReader, @unchecked Sendable {
        // @unchecked: the counter is only touched under the lock.
        private let lock = NSLock()
        private var count = 0
        var reads: Int { lock.withLock { count } }

        func metadata(_ instance: WADOInstance, instanceURL: String) throws(WADOError) -> [UInt8] {
            lock.withLock { count += 1 }
            let path = instance.path
            if path.hasSuffix("broken") { throw WADOError(.failed, "cannot read \(path)") }
            return Array("{\"path\":\"\(path)\",\"url\":\"\(instanceURL)\"}".utf8)
        }
        func bulkData(_ instance: WADOInstance, tag: UInt32) throws(WADOError) -> (bytes: [UInt8], transferSyntaxUID: String) { ([], "") }
        func frames(_ instance: WADOInstance, numbers: [Int], transferSyntaxUID: String?) throws(WADOError)
            -> (frames: [[UInt8]], transferSyntaxUID: String) { ([], "") }
        func transcode(_ instance: WADOInstance, to transferSyntaxUID: String, output: String) throws(WADOError) {}
        func renderJPEG(_ instance: WADOInstance, frame: Int, maxSide: Int, quality: Int) throws(WADOError) -> [UInt8] { [] }
    }

    static func instances(_ count: Int, sha: String = "a") -> [WADOInstance] {
        (1...count).map {
            WADOInstance(studyUID: "1.2", seriesUID: "1.2.3", sopUID: "1.2.3.\($0)", sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                         transferSyntaxUID: "1.2.840.10008.1.2.1", path: "/cache/\($0).dcm", fingerprint: "\(sha)\($0)")
        }
    }

    @Test func seriesMetadataIsOneArrayInInstanceOrderAndReadOnceThenFromTheCacheFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metadata-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader = CountingReader()
        let cache = MetadataCache(directory: dir, reader: reader)
        let series = Self.instances(50)
        let first = try cache.metadata(of: series, view: "", instanceURL: { "/dicom-web/i/\($0.sopUID)" })
        let array = try #require(try JSONSerialization.jsonObject(with: Data(first)) as? [[String: String]])
        #expect(array.map { $0["path"] } == series.map(\.path))
        #expect(array[0]["url"] == "/dicom-web/i/1.2.3.1")
        #expect(reader.reads == 50)
        // Asked again (another process start would find the same file): no file is read.
        let again = try MetadataCache(directory: dir, reader: reader).metadata(of: series, view: "", instanceURL: { "/dicom-web/i/\($0.sopUID)" })
        #expect(again == first)
        #expect(reader.reads == 50)
        // An instance added, one replaced, another view or URL base: computed afresh.
        _ = try cache.metadata(of: Self.instances(51), view: "", instanceURL: { "/dicom-web/i/\($0.sopUID)" })
        #expect(reader.reads == 101)
        _ = try cache.metadata(of: Self.instances(50, sha: "b"), view: "", instanceURL: { "/dicom-web/i/\($0.sopUID)" })
        #expect(reader.reads == 151)
        _ = try cache.metadata(of: series, view: "TRUST_B", instanceURL: { "/dicom-web/i/\($0.sopUID)" })
        #expect(reader.reads == 201)
        // One entry per series on disk: each new state replaced the one before.
        let files = FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") } ?? []
        #expect(files.count == 1, "\(files)")
    }

    /// Two instances of another study's only series (9.8 / 9.8.7).
    static func otherStudysSeries() -> [WADOInstance] {
        (1...2).map {
            WADOInstance(studyUID: "9.8", seriesUID: "9.8.7", sopUID: "9.8.7.\($0)", sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
                         transferSyntaxUID: "1.2.840.10008.1.2.1", path: "/cache/o\($0).dcm", fingerprint: "o\($0)")
        }
    }

    /// An instance of a second series (1.2.4) of the study of ``instances(_:sha:)``.
    static let secondSeriesInstance = WADOInstance(
        studyUID: "1.2", seriesUID: "1.2.4", sopUID: "1.2.4.1", sopClassUID: "1.2.840.10008.5.1.4.1.1.2",
        transferSyntaxUID: "1.2.840.10008.1.2.1", path: "/cache/s2.dcm", fingerprint: "s2")

    @Test func aStudyRetiredByRetentionTakesItsKeptMetadataWithIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metadata-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = MetadataCache(directory: dir, reader: CountingReader())
        let series = Self.instances(3)
        let other = Self.otherStudysSeries()
        let twoSeries = series + [Self.secondSeriesInstance]
        for set in [series, twoSeries, other] { _ = try cache.metadata(of: set, view: "", instanceURL: { "/i/\($0.sopUID)" }) }
        func kept() -> [String] {
            (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") } ?? []).sorted()
        }
        #expect(kept().count == 3, "a series, a study and another study's series: \(kept())")
        MetadataCache.forget(in: dir, studyUID: "1.2", seriesUIDs: ["1.2.3", "1.2.4"])
        #expect(kept().count == 1, "only the other study's series is left: \(kept())")
        MetadataCache.forget(in: dir, studyUID: "9.8", seriesUIDs: ["9.8.7"])
        #expect(kept().isEmpty)
    }

    @Test func aSweepRemovesTheKeptSetsOfSeriesAndStudiesNoLongerCached() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metadata-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = MetadataCache(directory: dir, reader: CountingReader())
        let kept = Self.instances(2)
        let retired = Self.otherStudysSeries()
        let study = kept + [Self.secondSeriesInstance]
        for set in [kept, retired, study] { _ = try cache.metadata(of: set, view: "", instanceURL: { "/i/\($0.sopUID)" }) }
        // A folder from before sets were named: nothing says what it is, so it goes.
        try FileManager.default.createDirectory(atPath: dir + "/ab/abcdef", withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: dir + "/ab/abcdef/old.json", contents: Data("[]".utf8))
        var asked: [String] = []
        let removed = MetadataCache.sweep(in: dir) { kind, uid in
            asked.append("\(kind.rawValue) \(uid)")
            return uid != "9.8.7"
        }
        #expect(removed == 2)
        #expect(Set(asked) == ["series 1.2.3", "series 9.8.7", "study 1.2"])
        let left = (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }.filter { $0.hasSuffix(".json") } ?? [])
        #expect(left.count == 2, "the series 1.2.3 and the study 1.2 stay: \(left)")
        // Still answered from what is kept: no file read.
        let reader = CountingReader()
        _ = try MetadataCache(directory: dir, reader: reader).metadata(of: kept, view: "", instanceURL: { "/i/\($0.sopUID)" })
        #expect(reader.reads == 0)
    }

    @Test func singleInstanceMetadataIsNotKept() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metadata-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader = CountingReader()
        let cache = MetadataCache(directory: dir, reader: reader)
        for _ in 0..<2 { _ = try cache.metadata(of: Self.instances(1), view: "", instanceURL: { $0.sopUID }) }
        #expect(reader.reads == 2)
        #expect(!FileManager.default.fileExists(atPath: dir))
    }

    @Test func anUnreadableInstanceFailsTheRequestAndNothingIsCached() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("metadata-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let reader = CountingReader()
        let cache = MetadataCache(directory: dir, reader: reader)
        let broken = Self.instances(3) + [WADOInstance(studyUID: "1.2", seriesUID: "1.2.3", sopUID: "1.2.3.9", sopClassUID: "",
                                                       transferSyntaxUID: "", path: "/cache/broken")]
        #expect(throws: WADOError.self) { try cache.metadata(of: broken, view: "", instanceURL: { $0.sopUID }) }
        #expect(throws: WADOError.self) { try cache.metadata(of: broken, view: "", instanceURL: { $0.sopUID }) }
        #expect(reader.reads == 8)
    }
}
