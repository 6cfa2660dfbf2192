// What the Swift fuzz targets share: the libFuzzer entry point, and a reader that turns the
// fuzzer's bytes into the structured inputs the targets need.

/// libFuzzer's driver (from `libclang_rt.fuzzer`, linked by `-sanitize=fuzzer`).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// The fuzzer's `main`. SwiftPM links every executable with `main` renamed to `<Module>_main`
/// (so tests can link executables), and a `-parse-as-library` module has none: each target
/// defines `@_cdecl("<Module>_main")` and calls this, which runs libFuzzer on `callback`.
/// `extraCommands` get the arguments first; one that returns an exit status ends the process
/// without fuzzing (e.g. `--write-seeds DIR`).
public func runFuzzer(
    argc: CInt, argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt,
    extraCommands: ([String]) -> CInt? = { _ in nil }
) -> CInt {
    let arguments = (0..<Int(argc)).map { argv?[$0].map { String(cString: $0) } ?? "" }
    if let status = extraCommands(Array(arguments.dropFirst())) { return status }
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, callback)
}

/// Reads structured values off the front of the fuzzer's bytes; past the end every read gives
/// zero or empty, so any input is a valid one.
public struct FuzzReader {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ data: UnsafePointer<UInt8>?, _ size: Int) {
        bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    public var isAtEnd: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// The bytes up to (not including) `separator` or the end; the separator is consumed.
    public mutating func bytes(upTo separator: UInt8) -> [UInt8] {
        let start = position
        while position < bytes.count, bytes[position] != separator { position += 1 }
        let slice = Array(bytes[start..<position])
        if position < bytes.count { position += 1 }
        return slice
    }

    /// `bytes(upTo:)` as text; bytes that are not UTF-8 are repaired (U+FFFD), as NIO and DCMTK hand them to us.
    public mutating func text(upTo separator: UInt8) -> String {
        String(decoding: bytes(upTo: separator), as: UTF8.self)
    }

    /// Everything not read yet.
    public mutating func rest() -> [UInt8] {
        defer { position = bytes.count }
        return position < bytes.count ? Array(bytes[position...]) : []
    }
}

/// Stops the fuzzer with `message` (libFuzzer saves the input as a crash).
public func fuzzFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    fatalError(message, file: file, line: line)
}

/// What a target passes on when libFuzzer hands it no buffer at all (an empty input).
// Safe: one byte nobody writes; only its address is used.
nonisolated(unsafe) public let emptyInput = UnsafePointer(UnsafeMutablePointer<UInt8>.allocate(capacity: 1))
