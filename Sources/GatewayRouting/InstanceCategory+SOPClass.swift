import GatewayConfig

extension InstanceCategory {
    /// The root of the storage SOP class UIDs (PS3.4 Annex B).
    static let storageRoot = "1.2.840.10008.5.1.4.1.1."

    /// Classifies a storage SOP class:
    /// - `report`: every structured report and key object selection (`...1.1.88.*`),
    ///   Encapsulated PDF (`...1.1.104.1`) and CDA (`...1.1.104.2`);
    /// - `presentation_state`: `...1.1.11.*`;
    /// - `other`: waveforms, raw data, registrations, segmentations, surfaces, measurements,
    ///   RT objects other than RT Image, other encapsulated documents, and any UID outside the
    ///   storage root;
    /// - `image`: every other storage SOP class.
    public init(sopClassUID: String) {
        let uid = sopClassUID.trimmingDicomPadding()
        guard uid.hasPrefix(Self.storageRoot) else { self = .other; return }
        let rest = uid.dropFirst(Self.storageRoot.count).split(separator: ".").map(String.init)
        let first = rest.first ?? "", second = rest.count > 1 ? rest[1] : ""
        switch first {
        case "88": self = .report
        case "104": self = ["1", "2"].contains(second) ? .report : .other
        case "11": self = .presentation_state
        case "481": self = second == "1" ? .image : .other
        case "9", "66", "67", "68", "78", "79", "90", "91", "200", "201": self = .other
        default: self = first.isEmpty ? .other : .image
        }
    }
}
