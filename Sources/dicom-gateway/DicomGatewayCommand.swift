import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation
import Logging

@main
struct DicomGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicom-gateway",
        abstract: "DICOM interoperability gateway for regional imaging networks.",
        subcommands: [Serve.self, Echo.self, Send.self, Find.self, Retrieve.self, Queue.self, StudyCommand.self, WorklistCommand.self, ConfigCommand.self, RouteCommand.self],
        defaultSubcommand: Serve.self)
}

/// Options every SCU command shares.
struct SCUOptions: ParsableArguments {
    @Option(name: .customLong("calling-ae"), help: "Our AE title on the association.")
    var callingAE: String = "DICOMGW_SCU"

    @Option(help: "Seconds to wait for each DIMSE response.")
    var timeout: Int = 60

    @Option(name: .customLong("connect-timeout"), help: "Seconds to wait for the TCP connection.")
    var connectTimeout: Int = 10

    @Flag(name: .long, help: "Print DCMTK's own log (debug level).")
    var verbose = false

    @Flag(name: .long, help: "Use DICOM TLS (BCP 195); the peer's certificate must chain to --tls-trusted.")
    var tls = false

    @Option(name: .customLong("tls-cert"), help: "With --tls: our PEM certificate, if the peer asks for one.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "With --tls: the PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-trusted"), help: "With --tls: the PEM CA certificate file (or directory) the peer's certificate must chain to.")
    var tlsTrusted: String?

    func validate() throws {
        let given = tlsCertificate != nil || tlsKey != nil || tlsTrusted != nil
        if given, !tls { throw ValidationError("--tls-cert, --tls-key and --tls-trusted need --tls") }
        if tls, tlsTrusted == nil { throw ValidationError("--tls needs --tls-trusted CA.crt: the peer's certificate is always verified") }
        if (tlsCertificate == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    /// The peer, called over TLS with --tls.
    func node(_ text: String) throws -> DicomNode {
        var node = try parseNode(text)
        if tls { node.tls = TLSPeerRequirement() }
        return node
    }

    func client() throws -> DicomClient {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .debug
            return h
        }
        try DicomRuntime.bootstrap(dcmtkLevel: verbose ? .debug : .critical)
        if tls, let tlsTrusted {
            do {
                TLSContext.client = try TLSContext(role: .client, .init(certificate: tlsCertificate, privateKey: tlsKey, trusted: tlsTrusted))
            } catch {
                throw CommandFailure("\(error.message)")
            }
        }
        return DicomClient(
            callingAE: try AETitle(callingAE), timeouts: DicomTimeouts(connect: connectTimeout, acse: 30, dimse: timeout))
    }
}

/// Parses `AE@HOST:PORT`, with a message a person can act on.
func parseNode(_ text: String) throws -> DicomNode {
    do {
        return try DicomNode(parsing: text)
    } catch {
        throw ValidationError("\(error) (expected AE@HOST:PORT, e.g. PACS_A@127.0.0.1:104)")
    }
}

/// Exits with a clear message instead of a stack of conditions.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension DIMSEPriority: ExpressibleByArgument {}
extension QueryModel: ExpressibleByArgument {}
