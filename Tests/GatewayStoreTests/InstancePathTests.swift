import DicomCore
import Foundation
import GatewayStore
import Testing

/// Wire-supplied UIDs become file names: whatever a peer sends, the derived path stays under
/// `ROOT/instances/` and contains no `..`, no NUL and no extra directory levels.
@Suite struct InstancePathTests {
    static let hostile: [String] = [
        "../../etc/passwd", "a/b", "..", ".", "", "/", "/etc/passwd", "1.2\u{0}3", "1.2.3/../../..", "..\\..\\x",
        "1.2.3\n4", "~", "*", String(repeating: "9", count: 200), String(repeating: "../", count: 70),
        String(repeating: "é", count: 200), "1.2.3 ",
    ]

    let paths = InstancePath(root: "/srv/cache")

    @Test(arguments: hostile)
    func hostileUIDInAnyPositionStaysUnderInstances(_ uid: String) {
        for (study, series, sop) in [(uid, "1.2", "1.2.3"), ("1.2", uid, "1.2.3"), ("1.2", "1.2.3", uid), (uid, uid, uid)] {
            let relative = paths.relativePath(study: study, series: series, sopInstance: sop)
            let label = UID.printable(relative)
            #expect(relative.hasPrefix("instances/"), "\(label)")
            #expect(!relative.contains("\u{0}"), "\(label)")
            #expect(!relative.contains("\\"), "\(label)")
            let components = relative.split(separator: "/", omittingEmptySubsequences: false)
            #expect(components.count == 5, "instances/bucket/study/series/sop.dcm expected: \(label)")
            #expect(!components.contains { $0 == ".." || $0 == "." || $0.isEmpty }, "\(label)")
            #expect(components.allSatisfy { $0.utf8.count <= 255 }, "\(label)")
            #expect(relative.hasSuffix(".dcm"))
            let absolute = URL(fileURLWithPath: paths.absolutePath(relative: relative)).standardizedFileURL.path
            #expect(absolute.hasPrefix("/srv/cache/instances/"), "\(UID.printable(absolute))")
        }
    }

    @Test func validUIDsAreUsedVerbatim() {
        let relative = paths.relativePath(study: "1.2.840.1", series: "1.2.840.1.2", sopInstance: "1.2.840.1.2.3")
        let bucket = String(InstancePath.sha256Hex("1.2.840.1").prefix(2))
        #expect(relative == "instances/\(bucket)/1.2.840.1/1.2.840.1.2/1.2.840.1.2.3.dcm")
        #expect(paths.absolutePath(relative: relative) == "/srv/cache/" + relative)
    }

    @Test func invalidUIDsAreReplacedByTheirHashNotDropped() {
        let relative = paths.relativePath(study: "../../etc/passwd", series: "a/b", sopInstance: "..")
        let parts = relative.split(separator: "/").map(String.init)
        #expect(parts[2] == "x" + InstancePath.sha256Hex("../../etc/passwd"))
        #expect(parts[3] == "x" + InstancePath.sha256Hex("a/b"))
        #expect(parts[4] == "x" + InstancePath.sha256Hex("..") + ".dcm")
    }

    @Test func distinctHostileUIDsGiveDistinctPaths() {
        let all = Self.hostile.map { paths.relativePath(study: "1.2", series: "1.2.3", sopInstance: $0) }
        #expect(Set(all).count == Self.hostile.count)
    }

    @Test func hashedNameCannotCollideWithAValidUID() {
        // A valid UID never starts with "x", so a hashed component cannot equal a verbatim one.
        let hashed = paths.relativePath(study: "1.2", series: "1.2.3", sopInstance: "a")
        let verbatim = paths.relativePath(study: "1.2", series: "1.2.3", sopInstance: "1.2.3.4")
        #expect(hashed != verbatim)
        #expect(hashed.split(separator: "/").last!.hasPrefix("x"))
    }

    @Test func incomingDirectoryIsUnderTheRoot() {
        #expect(paths.incomingDirectory == "/srv/cache/incoming")
    }
}
