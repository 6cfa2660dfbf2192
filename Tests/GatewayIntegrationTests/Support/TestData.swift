import DicomCore
import DicomNetwork
import Foundation

/// Synthetic DICOM instances: one template made by DCMTK's dump2dcm, copies rewritten in-process.
enum TestData {
    /// A template CT (rows x columns, 16-bit) in `dir`, made with dump2dcm.
    static func template(in dir: String, rows: Int = 4, columns: Int = 4, modality: String = "CT",
                         sopClass: String = "CTImageStorage") throws -> String {
        let path = dir + "/template-\(rows)x\(columns)-\(modality).dcm"
        if FileManager.default.fileExists(atPath: path) { return path }
        let raw = dir + "/pixels-\(rows)x\(columns).raw"
        var bytes = [UInt8](repeating: 0, count: rows * columns * 2)
        for i in 0..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: i &* 31) }
        FileManager.default.createFile(atPath: raw, contents: Data(bytes))
        let dump = """
            (0008,0016) UI =\(sopClass)
            (0008,0018) UI [1.2.826.0.1.3680043.8.1055.1.1]
            (0008,0020) DA [20240102]
            (0008,0030) TM [101010]
            (0008,0050) SH [ACC001]
            (0008,0060) CS [\(modality)]
            (0008,0090) PN [Ref^Doctor]
            (0008,1030) LO [Head stroke protocol]
            (0008,103e) LO [Axial]
            (0010,0010) PN [Doe^Jane]
            (0010,0020) LO [PID001]
            (0010,0030) DA [19600101]
            (0010,0040) CS [F]
            (0018,0015) CS [HEAD]
            (0020,000d) UI [1.2.826.0.1.3680043.8.1055.1]
            (0020,000e) UI [1.2.826.0.1.3680043.8.1055.1.2]
            (0020,0010) SH [S1]
            (0020,0011) IS [1]
            (0020,0013) IS [1]
            (0028,0002) US 1
            (0028,0004) CS [MONOCHROME2]
            (0028,0010) US \(rows)
            (0028,0011) US \(columns)
            (0028,0100) US 16
            (0028,0101) US 16
            (0028,0102) US 15
            (0028,0103) US 0
            (7fe0,0010) OW =\(raw)
            """
        let dumpPath = dir + "/template.dump"
        try dump.write(toFile: dumpPath, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/dump2dcm")
        p.arguments = ["+te", "+Ug", "+Uo", dumpPath, path]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw TestFailure("dump2dcm failed for \(path)") }
        return path
    }

    /// A study of `count` instances in one series, written to `dir`; returns the file paths.
    static func study(
        in dir: String, count: Int, studyUID: String = newUID(), patientID: String = "PID001",
        modality: String = "CT", description: String = "Head stroke protocol", studyDate: String = "20240102",
        rows: Int = 4, columns: Int = 4, seriesUID: String? = nil, extra: [DicomTag: String?] = [:]
    ) throws -> [String] {
        let template = try template(in: dir, rows: rows, columns: columns)
        let series = seriesUID ?? studyUID + ".1"
        var paths: [String] = []
        for i in 1...count {
            let path = dir + "/\(studyUID)-\(i).dcm"
            var changes: [DicomTag: String?] = [
                .studyInstanceUID: studyUID, .seriesInstanceUID: series, .sopInstanceUID: "\(series).\(i)",
                .instanceNumber: "\(i)", .patientID: patientID, .modality: modality, .studyDescription: description,
                .studyDate: studyDate,
            ]
            changes.merge(extra) { $1 }
            try DicomFile.write(from: template, to: path, setting: changes)
            paths.append(path)
        }
        return paths
    }

    nonisolated(unsafe) private static var counter = 0
    private static let lock = NSLock()

    /// A fresh, valid UID under a test root.
    static func newUID() -> String {
        lock.lock()
        defer { lock.unlock() }
        counter += 1
        let seconds = UInt64(Date().timeIntervalSince1970 * 1000) % 10_000_000_000
        return "1.2.826.0.1.3680043.8.1055.9.\(getpid()).\(seconds).\(counter)"
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
