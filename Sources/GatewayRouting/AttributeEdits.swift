import DicomCore

/// Changes to an instance's attributes: the new value of each tag, or nil to remove it.
///
/// ```swift
/// let edits: AttributeEdits = [.patientID: "RTH-123", DicomTag(0x0008, 0x0090): nil]
/// let coerced = attributes.applying(edits)
/// ```
public typealias AttributeEdits = [DicomTag: String?]

extension DicomAttributes {
    /// A copy with `edits` applied: each tag set to its new value, or removed for nil.
    public func applying(_ edits: AttributeEdits) -> DicomAttributes {
        var result = self
        for (tag, value) in edits {
            result[tag] = value
        }
        return result
    }
}
