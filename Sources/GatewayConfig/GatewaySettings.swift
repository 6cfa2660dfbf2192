import DicomCore
import Foundation

/// The `gateway:` section: how the gateway presents itself on the DICOM network.
public struct GatewaySettings: Sendable, Hashable {
    /// Our own AE title, which callers address (`ae_title`, default `NETGW`).
    public var aeTitle: AETitle = "NETGW"
    /// The TCP port the DICOM listener accepts associations on (`port`, default 11112); 0 for
    /// none, when `tls` gives a DICOM TLS port (TLS only).
    public var port: Int = 11112
    /// DICOM TLS: the TLS listener and the gateway's certificate (`tls`, optional).
    public var tls: GatewayTLSSettings?
    /// The listen address (`bind`, default `127.0.0.1`); `0.0.0.0` or `::` means all interfaces.
    public var bind: String = "127.0.0.1"
    /// Inbound associations handled at once (`max_associations`, default 32); more are rejected
    /// (A-ASSOCIATE-RJ transient, local limit exceeded) and the caller retries later.
    public var maxAssociations: Int = 32
    /// The largest PDU we accept, in bytes (`max_pdu`, default 131072, range 4096-131072,
    /// DCMTK's ASC_MINIMUMPDUSIZE...ASC_MAXIMUMPDUSIZE).
    public var maxPDU: Int = 131_072
    /// How long to wait for a DIMSE message before aborting (`dimse_timeout`, default 60 s).
    public var dimseTimeout: Duration = .seconds(60)
    /// How long to wait for association negotiation and release (`acse_timeout`, default 30 s).
    public var acseTimeout: Duration = .seconds(30)
    /// Whether callers with an AE title no node has may associate (`accept_unknown_callers`), as
    /// written in the file; nil (not written): yes when the listener is on loopback only, no
    /// otherwise (see ``acceptsUnknownCallers`` and UnknownCallers.swift).
    public var acceptUnknownCallers: Bool?
    /// What unknown callers may do (`unknown_callers_allow`); nil: see ``unknownCallerPermissions``.
    public var unknownCallersAllow: Set<NodePermission>?

    /// The embedded defaults.
    public init() {}

    static let keys = ["ae_title", "port", "bind", "max_associations", "max_pdu", "dimse_timeout",
                       "acse_timeout", "accept_unknown_callers", "unknown_callers_allow", "tls"]
    static let pduRange = 4096...131_072
    static let timeoutRange = 1...86_400

    /// Reads the section; absent keys keep their defaults, invalid ones are reported.
    static func read(_ section: ConfigMapping, baseDirectory: URL) -> GatewaySettings {
        var settings = GatewaySettings()
        settings.aeTitle = section.read("ae_title", default: settings.aeTitle) { $0.aeTitle() }
        // 0: no plain listener (TLS only); otherwise a port.
        settings.port = section.read("port", default: settings.port) { $0.node.scalar?.string == "0" ? 0 : $0.int(in: 1...65535, noun: "a port") }
        if let tls = section.optional("tls", { $0.mapping(keys: GatewayTLSSettings.keys) }) {
            settings.tls = GatewayTLSSettings.read(tls, baseDirectory: baseDirectory)
            if let port = settings.tls?.port, port == settings.port {
                tls["port"]?.error(.invalidValue, "the TLS port \(port) is also gateway.port; give them different ports")
            }
        }
        if settings.port == 0, !section.isSet("tls") {
            section["port"]?.error(.invalidValue, "port 0 turns the plain DICOM listener off, which leaves no listener: "
                + "give a port, or configure gateway.tls")
        }
        settings.bind = section.read("bind", default: settings.bind) { $0.host(noun: "a listen address") }
        settings.maxAssociations = section.read("max_associations", default: settings.maxAssociations) {
            $0.int(in: 1...1024, noun: "a number of associations")
        }
        settings.maxPDU = section.read("max_pdu", default: settings.maxPDU) {
            $0.int(in: pduRange, noun: "a PDU size in bytes")
        }
        settings.dimseTimeout = section.read("dimse_timeout", default: settings.dimseTimeout) { $0.seconds(in: timeoutRange) }
        settings.acseTimeout = section.read("acse_timeout", default: settings.acseTimeout) { $0.seconds(in: timeoutRange) }
        settings.readUnknownCallers(section)
        return settings
    }
}

extension ConfigValue {
    /// Whole seconds written as a plain number.
    func seconds(in range: ClosedRange<Int>) -> Duration? {
        int(in: range, noun: "a number of seconds").map { .seconds($0) }
    }

    /// An IPv4 or IPv6 address or a DNS host name.
    func host(noun: String) -> String? {
        guard let raw = text(noun) else { return nil }
        guard HostAddress.isValid(raw) else {
            error(.invalidValue, "'\(raw.printable)' is not \(noun) (an IPv4 or IPv6 address or a host name)")
            return nil
        }
        return raw
    }

    /// An AE title.
    func aeTitle() -> AETitle? {
        convert("an AE title") { s throws(DicomValueError) in try AETitle(s) }
    }
}
