import DicomCore

/// A presentation context to propose: an abstract syntax, the transfer syntaxes offered for it,
/// and for C-GET storage contexts the SCP role.
public struct PresentationContextProposal: Sendable, Hashable {
    public enum Role: Int32, Sendable { case `default` = 0, scu = 1, scp = 2, both = 3 }

    public var abstractSyntax: String
    public var transferSyntaxes: [String]
    public var role: Role

    public init(_ abstractSyntax: String, transferSyntaxes: [String] = TransferSyntax.uncompressed, role: Role = .default) {
        self.abstractSyntax = abstractSyntax
        self.transferSyntaxes = transferSyntaxes
        self.role = role
    }

    /// DICOM allows 128 presentation contexts per association.
    public static let maximumPerAssociation = 128

    /// Contexts to send these files: one per (SOP class, transfer syntax), plus an uncompressed
    /// fallback per SOP class so a peer that refuses the compressed syntax can still receive.
    public static func forStorage(of files: [DicomFileInfo]) -> [PresentationContextProposal] {
        var seen = Set<PresentationContextProposal>()
        var result: [PresentationContextProposal] = []
        func add(_ pc: PresentationContextProposal) {
            if seen.insert(pc).inserted { result.append(pc) }
        }
        for file in files {
            if TransferSyntax.isUncompressed(file.transferSyntaxUID) {
                add(PresentationContextProposal(file.sopClassUID, transferSyntaxes: TransferSyntax.uncompressed))
            } else {
                add(PresentationContextProposal(file.sopClassUID, transferSyntaxes: [file.transferSyntaxUID]))
                add(PresentationContextProposal(file.sopClassUID, transferSyntaxes: TransferSyntax.uncompressed))
            }
        }
        return result
    }

    /// Contexts for a C-GET: the GET model plus storage contexts with the SCP role.
    public static func forGet(model: QueryModel, storageSOPClasses: [String]) -> [PresentationContextProposal] {
        var result = [PresentationContextProposal(model.getSOPClass)]
        for uid in storageSOPClasses.prefix(maximumPerAssociation - 1) {
            result.append(PresentationContextProposal(uid, transferSyntaxes: TransferSyntax.uncompressed, role: .scp))
        }
        return result
    }
}

/// Timeouts of an outgoing association, in seconds.
public struct DicomTimeouts: Sendable, Equatable {
    public var connect: Int
    public var acse: Int
    public var dimse: Int
    public init(connect: Int = 10, acse: Int = 30, dimse: Int = 60) {
        self.connect = connect
        self.acse = acse
        self.dimse = dimse
    }
    public static let `default` = DicomTimeouts()
}
