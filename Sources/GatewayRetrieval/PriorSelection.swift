import DicomCore
import Foundation
import GatewayConfig

/// Which of a patient's other studies at a source are relevant priors of a new study: older,
/// within `years`, sharing the modality or body part (as configured), newest first, `count` at most.
public enum PriorSelection {
    public static func choose(from candidates: [DicomAttributes], newStudy: DicomAttributes, settings: PriorsSettings) -> [DicomAttributes] {
        guard settings.isEnabled, let newUID = newStudy.string(.studyInstanceUID) else { return [] }
        let newDate = newStudy.string(.studyDate) ?? ""
        let earliest = earliestDate(before: newDate, years: settings.years)
        let modality = newStudy.string(.modality) ?? ""
        let bodyPart = (newStudy.string(.bodyPartExamined) ?? "").uppercased()
        let relevant = candidates.filter { study in
            guard let uid = study.string(.studyInstanceUID), uid != newUID else { return false }
            let date = study.string(.studyDate) ?? ""
            guard !date.isEmpty, newDate.isEmpty || date <= newDate, date >= earliest else { return false }
            var shares = false
            if settings.match.contains(.modality), !modality.isEmpty {
                let modalities = (study.string(.modalitiesInStudy) ?? study.string(.modality) ?? "").split(separator: "\\").map(String.init)
                shares = shares || modalities.contains(modality)
            }
            if settings.match.contains(.bodyPart), !bodyPart.isEmpty {
                shares = shares || (study.string(.bodyPartExamined) ?? "").uppercased() == bodyPart
            }
            return shares
        }
        return Array(relevant.sorted { ($0.string(.studyDate) ?? "") > ($1.string(.studyDate) ?? "") }.prefix(settings.count))
    }

    /// YYYYMMDD `years` before `date` (or before today when `date` is empty or malformed).
    static func earliestDate(before date: String, years: Int) -> String {
        if date.count == 8, let year = Int(date.prefix(4)) {
            return String(format: "%04d", max(0, year - years)) + date.dropFirst(4)
        }
        let calendar = Calendar(identifier: .gregorian)
        let then = calendar.date(byAdding: .year, value: -years, to: Date()) ?? Date()
        let c = calendar.dateComponents([.year, .month, .day], from: then)
        return String(format: "%04d%02d%02d", c.year ?? 0, c.month ?? 1, c.day ?? 1)
    }
}
