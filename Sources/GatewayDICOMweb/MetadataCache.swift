import Crypto
import Dispatch
import Foundation

/// WADO-RS `/metadata` of a set of instances (a series or a study), as one DICOM JSON array.
///
/// Per instance the JSON comes from DCMTK (`WADOFileReader.metadata`), files read in parallel; the
/// assembled array of a series is kept in `directory` under a key made of everything it depends on
/// (the instances' UIDs and files, the caller's view, the BulkDataURI base), so a series asked for
/// again, even after a restart, is one file read. A changed series (an instance added or replaced)
/// has another key; stale entries are replaced when their series is asked for again.
public struct MetadataCache: Sendable {
    public let directory: String?
    let reader: any WADOFileReader

    /// `directory` nil: nothing is kept (every request reads the files).
    public init(directory: String?, reader: any WADOFileReader) {
        self.directory = directory
        self.reader = reader
    }

    /// The JSON array `[{...},{...}]` for `instances`; `instanceURL` gives each instance's URL (the
    /// base of its BulkDataURIs). Blocks: call off Swift's pool.
    public func metadata(of instances: [WADOInstance], view: String, instanceURL: (WADOInstance) -> String)
        throws(WADOError) -> [UInt8]
    {
        let urls = instances.map(instanceURL)
        let key = Self.key(instances, view: view, urls: urls)
        // One directory per series (or study): a new entry replaces the older ones of its set.
        // A single instance is read directly, never kept.
        let scope = Self.scope(instances)
        let folder = instances.count > 1 ? directory.map { $0 + "/" + scope.prefix(2) + "/" + scope } : nil
        let cached = folder.map { $0 + "/" + key + ".json" }
        if let cached, let data = FileManager.default.contents(atPath: cached) { return [UInt8](data) }
        let parts = try readAll(instances, urls: urls)
        var json: [UInt8] = [UInt8(ascii: "[")]
        json.reserveCapacity(parts.reduce(2) { $0 + $1.count + 1 })
        for (i, part) in parts.enumerated() {
            if i > 0 { json.append(UInt8(ascii: ",")) }
            json += part
        }
        json.append(UInt8(ascii: "]"))
        if let cached { store(json, at: cached, scope: Self.scopeName(instances)) }
        return json
    }

    /// Each instance's JSON, in order, from DispatchQueue.concurrentPerform workers.
    private func readAll(_ instances: [WADOInstance], urls: [String]) throws(WADOError) -> [[UInt8]] {
        let results = ResultSlots(count: instances.count)
        DispatchQueue.concurrentPerform(iterations: instances.count) { i in
            do throws(WADOError) {
                results.set(i, .success(try reader.metadata(instances[i], instanceURL: urls[i])))
            } catch {
                results.set(i, .failure(error))
            }
        }
        return try results.values()
    }

    private func store(_ json: [UInt8], at path: String, scope: String) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // The set's name beside its entries, so that a sweep can tell whether the set still exists.
        let named = directory + "/" + Self.scopeFile
        if !FileManager.default.fileExists(atPath: named) {
            _ = FileManager.default.createFile(atPath: named, contents: Data(scope.replacingOccurrences(of: "\0", with: "\n").utf8))
        }
        // Written aside then renamed: a reader never sees half a file.
        let temporary = path + ".\(UUID().uuidString).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(json)) else { return }
        if rename(temporary, path) != 0 {
            try? FileManager.default.removeItem(atPath: temporary)
            return
        }
        // Entries of the same set made for an older state of it (or another view) go.
        let name = (path as NSString).lastPathComponent
        for other in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where other != name && other.hasSuffix(".json") {
            try? FileManager.default.removeItem(atPath: directory + "/" + other)
        }
    }

    /// Removes what is kept for a study and its series (the study left the cache: retention). The
    /// JSON holds patient data, which must not outlive the instances it came from.
    public static func forget(in directory: String, studyUID: String, seriesUIDs: [String]) {
        for name in ["study\0" + studyUID] + seriesUIDs.map({ "series\0" + $0 }) {
            let scope = hashed(name)
            try? FileManager.default.removeItem(atPath: directory + "/" + scope.prefix(2) + "/" + scope)
        }
    }

    /// What a kept set is, for `sweep`: a series or a study, and its UID.
    public enum SetKind: String, Sendable { case series, study }

    /// Removes every kept set whose series or study `exists` no longer finds (retired while the
    /// process was down, by recovery, or answered again just as retention removed it), and any set
    /// without its name. Returns how many went. Blocks: run it off Swift's pool.
    @discardableResult
    public static func sweep(in directory: String, exists: (SetKind, String) -> Bool) -> Int {
        var removed = 0
        let manager = FileManager.default
        for prefix in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
            let level = directory + "/" + prefix
            for scope in (try? manager.contentsOfDirectory(atPath: level)) ?? [] {
                let folder = level + "/" + scope
                let lines = (try? String(contentsOfFile: folder + "/" + scopeFile, encoding: .utf8))?.split(separator: "\n").map(String.init)
                if let lines, lines.count == 2, let kind = SetKind(rawValue: lines[0]), exists(kind, lines[1]) { continue }
                if (try? manager.removeItem(atPath: folder)) != nil { removed += 1 }
            }
        }
        return removed
    }

    static let scopeFile = "scope"

    /// The set the instances form: their series when they share one, else their study.
    static func scopeName(_ instances: [WADOInstance]) -> String {
        let series = Set(instances.map(\.seriesUID))
        return series.count == 1 ? "series\0" + series.first! : "study\0" + (instances.first?.studyUID ?? "")
    }

    /// The set the instances form, hashed: their series when they share one, else their study.
    static func scope(_ instances: [WADOInstance]) -> String {
        hashed(scopeName(instances))
    }

    private static func hashed(_ name: String) -> String {
        SHA256.hash(data: Array(name.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func key(_ instances: [WADOInstance], view: String, urls: [String]) -> String {
        var hash = SHA256()
        hash.update(data: Array("v1\0\(view)\0".utf8))
        for (instance, url) in zip(instances, urls) {
            hash.update(data: Array("\(instance.sopUID)\0\(instance.transferSyntaxUID)\0\(instance.fingerprint)\0\(url)\0".utf8))
        }
        return hash.finalize().map { String(format: "%02x", $0) }.joined()
    }
}

/// Results written by concurrent workers, one slot each.
private final class ResultSlots: @unchecked Sendable {
    // @unchecked: every slot is written by exactly one worker, under the lock, and read only after
    // concurrentPerform has returned.
    private var slots: [Result<[UInt8], WADOError>?]
    private let lock = NSLock()

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ result: Result<[UInt8], WADOError>) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func values() throws(WADOError) -> [[UInt8]] {
        var out: [[UInt8]] = []
        out.reserveCapacity(slots.count)
        for slot in slots {
            switch slot {
            case .success(let bytes): out.append(bytes)
            case .failure(let error): throw error
            case nil: throw WADOError(.failed, "an instance's metadata was not read")
            }
        }
        return out
    }
}
