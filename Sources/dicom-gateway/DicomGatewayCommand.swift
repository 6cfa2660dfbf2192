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

    func client() throws -> DicomClient {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .debug
            return h
        }
        try DicomRuntime.bootstrap(dcmtkLevel: verbose ? .debug : .critical)
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
