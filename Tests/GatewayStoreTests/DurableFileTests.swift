import Foundation
import GatewayStore
import Testing

/// `DurableFile.install`: the move that files an instance once it is synced.
@Suite struct DurableFileTests {
    /// A scratch directory for one test, removed afterwards.
    final class Scratch {
        let path = NSTemporaryDirectory() + "dgw-store-\(UUID().uuidString.prefix(8))"
        init() { try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    @Test func installMovesTheFileAndCreatesMissingDirectories() throws {
        let dir = Scratch()
        let source = dir.path + "/incoming.part"
        let bytes = Data((0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        #expect(FileManager.default.createFile(atPath: source, contents: bytes))
        let destination = dir.path + "/instances/ab/1.2.3/1.2.3.4/1.2.3.4.5.dcm"
        try DurableFile.install(source, at: destination)
        #expect(!FileManager.default.fileExists(atPath: source), "the source must be moved, not copied")
        #expect(FileManager.default.contents(atPath: destination) == bytes)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: dir.path + "/instances/ab/1.2.3/1.2.3.4", isDirectory: &isDirectory))
        #expect(isDirectory.boolValue)
    }

    @Test func installIntoExistingDirectoryKeepsSiblings() throws {
        let dir = Scratch()
        let target = dir.path + "/d"
        try DurableFile.makeDirectories(target)
        for name in ["a", "b"] {
            let source = dir.path + "/\(name).part"
            FileManager.default.createFile(atPath: source, contents: Data(name.utf8))
            try DurableFile.install(source, at: target + "/\(name).dcm")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: target).sorted() == ["a.dcm", "b.dcm"])
        #expect(FileManager.default.contents(atPath: target + "/a.dcm") == Data("a".utf8))
    }

    @Test func installOfAMissingSourceThrowsAndCreatesNothing() {
        let dir = Scratch()
        #expect(throws: StoreError.self) {
            try DurableFile.install(dir.path + "/nope.part", at: dir.path + "/x/y.dcm")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path + "/x/y.dcm"))
    }

    @Test func installWhereADirectoryCannotBeCreatedThrowsAndKeepsTheSource() throws {
        let dir = Scratch()
        let blocker = dir.path + "/file-not-dir"
        FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8))
        let source = dir.path + "/s.part"
        FileManager.default.createFile(atPath: source, contents: Data("payload".utf8))
        #expect(throws: StoreError.self) { try DurableFile.install(source, at: blocker + "/sub/i.dcm") }
        #expect(FileManager.default.contents(atPath: source) == Data("payload".utf8), "a failed install must not lose the data")
    }

    @Test func makeDirectoriesIsIdempotent() throws {
        let dir = Scratch()
        let deep = dir.path + "/a/b/c/d"
        try DurableFile.makeDirectories(deep)
        try DurableFile.makeDirectories(deep)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: deep, isDirectory: &isDirectory) && isDirectory.boolValue)
    }

    @Test func availableBytesReportsTheFileSystem() throws {
        let dir = Scratch()
        let free = try #require(DurableFile.availableBytes(at: dir.path))
        #expect(free > 0)
        #expect(DurableFile.availableBytes(at: dir.path + "/does-not-exist") == nil)
    }
}
