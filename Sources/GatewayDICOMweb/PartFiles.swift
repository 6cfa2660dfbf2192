import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The parts of one STOW-RS request, each written to its own file (`stow-<uuid>.part` in the
/// incoming directory, removed at start if a crash leaves it) as its bytes arrive. A part that is
/// not `application/dicom` is not written: it is refused (0xC000) when the parts are filed.
struct PartFiles {
    struct Part: Sendable {
        let path: String
        /// Set when the part is refused without being filed.
        var refusal: StowInstanceOutcome?
    }

    struct WriteError: Error, CustomStringConvertible {
        let description: String
    }

    let directory: String
    private var parts: [Part] = []
    /// The open file of the current part, or -1 (none, or a refused part being skipped).
    private var descriptor: Int32 = -1

    init(directory: String) {
        self.directory = directory
    }

    mutating func handle(_ event: MultipartReader.Event) throws {
        switch event {
        case .partBegan(let headers):
            let type = headers["content-type"].flatMap(MediaType.init)?.type ?? "application/dicom"
            let path = directory + "/stow-\(UUID().uuidString).part"
            guard type == "application/dicom" else {
                parts.append(Part(path: path, refusal: StowInstanceOutcome(
                    failureReason: StowInstanceOutcome.Reason.cannotUnderstand,
                    comment: "part \(parts.count + 1) is \(type.prefix(80)), not application/dicom")))
                return
            }
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw WriteError(description: "cannot create \(path): \(String(cString: strerror(errno)))") }
            descriptor = fd
            parts.append(Part(path: path))
        case .data(let bytes):
            guard descriptor >= 0 else { return }
            try bytes.withUnsafeBytes { raw in
                var offset = 0
                while offset < raw.count {
                    let n = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw WriteError(description: "cannot write \(parts.last?.path ?? directory): \(String(cString: strerror(errno)))")
                    }
                    offset += n
                }
            }
        case .partEnded:
            closeCurrent()
        }
    }

    private mutating func closeCurrent() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// The complete parts, handed over: the ingest moves or removes each file.
    mutating func taken() -> [Part] {
        closeCurrent()
        defer { parts = [] }
        return parts
    }

    /// Removes every file still here (a refused request, or parts the ingest left behind).
    mutating func removeAll() {
        closeCurrent()
        for part in parts where part.refusal == nil { unlink(part.path) }
        parts = []
    }
}
