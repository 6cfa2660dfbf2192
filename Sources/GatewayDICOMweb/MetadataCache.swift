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
        let cached = directory.map { $0 + "/" + key.prefix(2) + "/" + key + ".json" }
        if let cached, let data = FileManager.default.contents(atPath: cached) { return [UInt8](data) }
        let parts = try readAll(instances, urls: urls)
        var json: [UInt8] = [UInt8(ascii: "[")]
        json.reserveCapacity(parts.reduce(2) { $0 + $1.count + 1 })
        for (i, part) in parts.enumerated() {
            if i > 0 { json.append(UInt8(ascii: ",")) }
            json += part
        }
        json.append(UInt8(ascii: "]"))
        if let cached { store(json, at: cached) }
        return json
    }

    /// Each instance's JSON, in order, from DispatchQueue.concurrentPerform workers.
    private func readAll(_ instances: [WADOInstance], urls: [String]) throws(WADOError) -> [[UInt8]] {
        let results = ResultSlots(count: instances.count)
        DispatchQueue.concurrentPerform(iterations: instances.count) { i in
            do throws(WADOError) {
                results.set(i, .success(try reader.metadata(path: instances[i].path, instanceURL: urls[i])))
            } catch {
                results.set(i, .failure(error))
            }
        }
        return try results.values()
    }

    private func store(_ json: [UInt8], at path: String) {
        let directory = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Written aside then renamed: a reader never sees half a file.
        let temporary = path + ".\(UUID().uuidString).tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(json)) else { return }
        if rename(temporary, path) != 0 { try? FileManager.default.removeItem(atPath: temporary) }
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
