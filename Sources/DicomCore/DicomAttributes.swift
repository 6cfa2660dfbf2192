/// A flat set of top-level attributes with their values as DICOM strings (multiple values
/// separated by `\`), as exchanged in C-FIND identifiers and read from file headers.
/// Binary and sequence attributes are not represented.
public struct DicomAttributes: Sendable, Equatable, Sequence {
    public private(set) var storage: [DicomTag: String] = [:]

    public init() {}
    public init(_ values: [DicomTag: String]) { storage = values }

    public subscript(tag: DicomTag) -> String? {
        get { storage[tag] }
        set { storage[tag] = newValue }
    }

    /// The value with leading and trailing spaces (DICOM padding) removed, or nil when absent or empty.
    public func string(_ tag: DicomTag) -> String? {
        guard let raw = storage[tag] else { return nil }
        let trimmed = raw.trimmingDicomPadding()
        return trimmed.isEmpty ? nil : trimmed
    }

    public var tags: [DicomTag] { storage.keys.sorted() }
    public var count: Int { storage.count }
    public var isEmpty: Bool { storage.isEmpty }

    public func makeIterator() -> some IteratorProtocol<(tag: DicomTag, value: String)> {
        storage.sorted { $0.key < $1.key }.map { (tag: $0.key, value: $0.value) }.makeIterator()
    }
}

extension String {
    /// Removes the space and NUL padding DICOM allows around values.
    public func trimmingDicomPadding() -> String {
        var scalars = Substring(self)
        while let last = scalars.last, last == " " || last == "\0" { scalars.removeLast() }
        while let first = scalars.first, first == " " { scalars.removeFirst() }
        return String(scalars)
    }
}
