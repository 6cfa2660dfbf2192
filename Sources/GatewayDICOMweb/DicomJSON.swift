import DicomCore
import Foundation

/// The DICOM JSON model (PS3.18 F.2) of flat data sets, as QIDO-RS answers them: one object per
/// data set, keyed by the tag's 8 hex digits (upper case), with the VR and the values. Person
/// names become `{"Alphabetic": ...}`, IS/DS/US/UL/SS/SL numbers; an empty value has no "Value".
public enum DicomJSON {
    public static func encode(_ datasets: [DicomAttributes]) -> Data {
        let objects = datasets.map { dataset in
            var object: [String: Any] = [:]
            for (tag, value) in dataset { object[key(tag)] = element(tag, value) }
            return object
        }
        return (try? JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
    }

    /// `0020000D` for (0020,000D).
    public static func key(_ tag: DicomTag) -> String { String(format: "%04X%04X", tag.group, tag.element) }

    /// The VR a QIDO answer gives a tag: the dictionary's, IS for the counts, else UN.
    public static func vr(_ tag: DicomTag) -> String { DicomDictionary.vr(for: tag) ?? "UN" }

    static func element(_ tag: DicomTag, _ raw: String) -> [String: Any] {
        let vr = vr(tag)
        let text = raw.trimmingCharacters(in: CharacterSet(charactersIn: " \0"))
        guard !text.isEmpty else { return ["vr": vr] }
        let parts = text.split(separator: "\\", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let values: [Any]
        switch vr {
        case "PN": values = parts.map { ["Alphabetic": $0] as [String: Any] }
        case "IS", "US", "UL", "SS", "SL", "UV", "SV":
            values = parts.map { Int64($0).map { $0 as Any } ?? NSNull() }
        case "DS", "FL", "FD": values = parts.map { Double($0).map { $0 as Any } ?? NSNull() }
        default: values = parts.map { $0.isEmpty ? NSNull() as Any : $0 as Any }
        }
        return ["vr": vr, "Value": values]
    }
}
