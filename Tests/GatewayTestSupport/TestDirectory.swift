import Foundation

/// A scratch directory removed at the end of the test.
public final class TestDirectory: @unchecked Sendable {
    // Safe: immutable after init.
    public let path: String
    public init(_ label: String = "t") {
        path = NSTemporaryDirectory() + "dgw-\(label)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    public func sub(_ name: String) -> String {
        let p = path + "/" + name
        try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
    /// Kept when DICOM_GATEWAY_TEST_KEEP is set (to read a failed test's logs).
    deinit {
        if ProcessInfo.processInfo.environment["DICOM_GATEWAY_TEST_KEEP"] == nil { try? FileManager.default.removeItem(atPath: path) }
    }
}
