/// SOP class and transfer syntax UIDs the gateway names (PS3.6 Annex A).
public enum SOPClass {
    public static let verification = "1.2.840.10008.1.1"
    public static let patientRootFind = "1.2.840.10008.5.1.4.1.2.1.1"
    public static let patientRootMove = "1.2.840.10008.5.1.4.1.2.1.2"
    public static let patientRootGet = "1.2.840.10008.5.1.4.1.2.1.3"
    public static let studyRootFind = "1.2.840.10008.5.1.4.1.2.2.1"
    public static let studyRootMove = "1.2.840.10008.5.1.4.1.2.2.2"
    public static let studyRootGet = "1.2.840.10008.5.1.4.1.2.2.3"
    public static let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
    public static let mrImageStorage = "1.2.840.10008.5.1.4.1.1.4"
    public static let secondaryCaptureImageStorage = "1.2.840.10008.5.1.4.1.1.7"
    public static let basicTextSR = "1.2.840.10008.5.1.4.1.1.88.11"
    public static let enhancedSR = "1.2.840.10008.5.1.4.1.1.88.22"
    public static let comprehensiveSR = "1.2.840.10008.5.1.4.1.1.88.33"
    public static let keyObjectSelection = "1.2.840.10008.5.1.4.1.1.88.59"
    public static let encapsulatedPDF = "1.2.840.10008.5.1.4.1.1.104.1"
}

public enum TransferSyntax {
    public static let implicitVRLittleEndian = "1.2.840.10008.1.2"
    public static let explicitVRLittleEndian = "1.2.840.10008.1.2.1"
    public static let deflatedExplicitVRLittleEndian = "1.2.840.10008.1.2.1.99"
    public static let explicitVRBigEndian = "1.2.840.10008.1.2.2"

    /// Transfer syntaxes any DICOM implementation can read and write without a codec.
    public static let uncompressed = [explicitVRLittleEndian, implicitVRLittleEndian]

    public static func isUncompressed(_ uid: String) -> Bool {
        uid == implicitVRLittleEndian || uid == explicitVRLittleEndian || uid == explicitVRBigEndian
    }
}
