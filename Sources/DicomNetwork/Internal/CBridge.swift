import CDcmtk
import Foundation
import DicomCore

/// Reads a fixed-size C char array (imported as a tuple) as a String.
func fixedCString<T>(_ tuple: T) -> String {
    withUnsafeBytes(of: tuple) { raw in
        String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
    }
}

/// Writes `text` into a fixed-size C char array (imported as a tuple), truncating and NUL-terminating.
func setFixedCString<T>(_ tuple: inout T, _ text: String) {
    withUnsafeMutableBytes(of: &tuple) { raw in
        let bytes = Array(text.utf8.prefix(raw.count - 1))
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
}

extension cdcm_status {
    static func empty() -> cdcm_status { cdcm_status() }
    var textString: String { fixedCString(text) }
    var errorCommentString: String { fixedCString(error_comment) }
}

/// Owned C strings for the duration of a call (strdup'd, freed on deinit).
final class CStringArray {
    private(set) var pointers: [UnsafePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { UnsafePointer(strdup($0)) }
    }

    deinit {
        for p in pointers { free(UnsafeMutablePointer(mutating: p)) }
    }
}

extension DicomNetworkError {
    /// Converts a failed cdcm_status into a Swift error, in one place.
    init(status st: cdcm_status) {
        let code: Code
        switch Int(st.kind) {
        case Int(CDCM_ERR_NETWORK.rawValue): code = .network
        case Int(CDCM_ERR_REJECTED.rawValue): code = .associationRejected
        case Int(CDCM_ERR_ABORTED.rawValue): code = .associationAborted
        case Int(CDCM_ERR_PROTOCOL.rawValue): code = .protocolError
        case Int(CDCM_ERR_NO_CONTEXT.rawValue): code = .noPresentationContext
        case Int(CDCM_ERR_FILE.rawValue): code = .file
        case Int(CDCM_ERR_INVALID.rawValue): code = .invalidArgument
        case Int(CDCM_ERR_TIMEOUT.rawValue): code = .timeout
        default: code = .internalError
        }
        var rejection: AssociationRejection?
        if code == .associationRejected {
            rejection = AssociationRejection(
                result: Int(st.reject_result), source: Int(st.reject_source), reason: Int(st.reject_reason))
        }
        self.init(code: code, message: st.textString, rejection: rejection)
    }
}
