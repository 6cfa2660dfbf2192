import ArgumentParser
import DicomCore
import DicomNetwork
import Foundation

struct Retrieve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retrieve a study, series or instance with C-MOVE (--move-to AE) or C-GET (--get --out DIR).")

    @Argument(help: "The peer, AE@HOST:PORT.") var peer: String
    @Option(help: "Study Instance UID.") var study: String
    @Option(help: "Series Instance UID (retrieves one series).") var series: String?
    @Option(help: "SOP Instance UID (retrieves one instance; needs --series).") var instance: String?
    @Option(name: .customLong("move-to"), help: "C-MOVE destination AE title (known to the peer).") var moveTo: String?
    @Flag(help: "Use C-GET: the instances come back on this association.") var get = false
    @Option(help: "Directory for C-GET.") var out: String?
    @Option(help: "Information model: patient or study (root).") var model: QueryModel = .studyRoot
    @Option(help: "DIMSE priority: high, medium or low.") var priority: DIMSEPriority = .medium
    @OptionGroup var scu: SCUOptions

    func validate() throws {
        guard (moveTo != nil) != get else { throw ValidationError("give exactly one of --move-to AE or --get") }
        if get && out == nil { throw ValidationError("--get needs --out DIR") }
        if instance != nil && series == nil { throw ValidationError("--instance needs --series") }
    }

    func run() async throws {
        let node = try scu.node(peer)
        var keys = DicomAttributes()
        keys[.studyInstanceUID] = study
        keys[.queryRetrieveLevel] = QueryLevel.study.rawValue
        if let series {
            keys[.seriesInstanceUID] = series
            keys[.queryRetrieveLevel] = QueryLevel.series.rawValue
        }
        if let instance {
            keys[.sopInstanceUID] = instance
            keys[.queryRetrieveLevel] = QueryLevel.image.rawValue
        }
        let client = try scu.client()
        let outcome: RetrieveOutcome
        do {
            if let moveTo {
                let destination = try AETitle(moveTo)
                outcome = try await client.move(node, model: model, keys: keys, destination: destination, priority: priority) {
                    print("pending: \($0)")
                }
            } else {
                outcome = try await client.get(node, model: model, keys: keys, into: out!, priority: priority) {
                    print("pending: \($0)")
                }
            }
        } catch let error as DicomNetworkError {
            throw CommandFailure("retrieve from \(node) failed: \(error)")
        }
        print("final status \(outcome.status); \(outcome.counts)\(outcome.errorComment.isEmpty ? "" : "; \(outcome.errorComment)")")
        if !outcome.isCompleteSuccess { throw ExitCode(1) }
    }
}
