import Foundation

/// DCMTK command-line peers, run with TCP_NODELAY unless a test asks for Nagle.
enum DCMTK {
    static func run(_ tool: String, _ args: [String], in dir: TestDirectory, nagle: Bool = false, timeout: Double = 120)
        throws -> (status: Int32, output: String)
    {
        try PeerProcess(tool, args, nagle: nagle, logDirectory: dir.path).run(timeout: timeout)
    }

    /// `dcmdump +P tag` of one attribute's value as printed by DCMTK, or nil.
    static func value(_ tag: String, in file: String, dir: TestDirectory) throws -> String? {
        let (status, out) = try run("dcmdump", ["-q", "+P", tag, file], in: dir)
        guard status == 0, let open = out.firstIndex(of: "["), let close = out[open...].firstIndex(of: "]") else { return nil }
        return String(out[out.index(after: open)..<close])
    }
}
