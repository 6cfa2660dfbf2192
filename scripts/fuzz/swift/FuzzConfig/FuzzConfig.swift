// libFuzzer target: any bytes given to the YAML configuration loader either load or throw a
// ConfigError whose every diagnostic is well-formed; never a crash, never a hang.
import DicomCore
import Foundation
import FuzzSupport
import GatewayConfig
import GatewayRouting

/// An empty directory that relative paths (storage.path, http.token_file) resolve against;
/// removed at exit.
let baseDirectory: URL = {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("dgw-fuzz-config-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: baseDirectory) }
    return url
}()

/// No failure is open any more: the nesting check's bypasses (an apostrophe in a plain scalar, an
/// escaped quote, compact block sequences) are refused by YAMLNesting since 2026-12-04
/// (reproducers in scripts/fuzz/swift/findings/, tested in HostileConfigTests).

/// An instance to route through every configuration that loads.
let sample = DicomAttributes([
    .sopClassUID: "1.2.840.10008.5.1.4.1.1.2", .modality: "CT", .patientID: "TEST123", .patientName: "Doe^Jane",
    .studyDescription: "CT HEAD stroke", .studyDate: "20240102", .studyTime: "101010", .accessionNumber: "ACC1",
    .studyInstanceUID: "1.2.3.4", .seriesInstanceUID: "1.2.3.4.1", .sopInstanceUID: "1.2.3.4.1.1",
])

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // As `GatewayConfiguration.load(contentsOf:)` reads a file: bytes that are not UTF-8 are refused before parsing.
    guard let text = String(data: Data(bytes: data, count: size), encoding: .utf8) else { return -1 }
    // `http.token_file` names a file the parse reads; Foundation gives nil for a device or FIFO
    // (/dev/zero, /dev/stdin, checked by hand), so such paths need not be kept from the fuzzer.
    do {
        let config = try GatewayConfiguration.parse(yaml: text, sourceName: "fuzz.yaml", baseDirectory: baseDirectory)
        // A configuration that loaded is usable: the gateway builds its router from it and routes.
        let router = Router(plan: RoutingPlan(configuration: config))
        for node in [nil] + config.nodes.map(\.name) {
            _ = router.route(RoutedInstance(
                attributes: sample, sendingNode: node, callingAE: "FUZZSCU", dimsePriority: .high,
                timeOfDay: TimeOfDay(hour: 9, minute: 30), studyOriginNode: config.nodes.first?.name))
        }
    } catch {
        precondition(!error.diagnostics.isEmpty, "a ConfigError without diagnostics")
        for diagnostic in error.diagnostics {
            precondition(diagnostic.file == "fuzz.yaml", "diagnostic names \(diagnostic.file)")
            if let line = diagnostic.line { precondition(line >= 1, "line \(line)") }
            if let column = diagnostic.column { precondition(column >= 1, "column \(column)") }
            precondition(!diagnostic.message.isEmpty, "empty message at \(diagnostic.path)")
            _ = diagnostic.description
        }
    }
    return 0
}

@_cdecl("FuzzConfig_main")
public func fuzzConfigMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    runFuzzer(argc: argc, argv: argv) { data, size in fuzzConfig(data ?? emptyInput, size) }
}
