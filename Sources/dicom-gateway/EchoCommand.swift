import ArgumentParser
import DicomCore
import DicomNetwork

struct Echo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Verify a peer with C-ECHO.")

    @Argument(help: "The peer, AE@HOST:PORT.") var peer: String
    @OptionGroup var scu: SCUOptions

    func run() async throws {
        let node = try scu.node(peer)
        let client = try scu.client()
        let start = ContinuousClock.now
        do {
            try await client.echo(node)
        } catch let error as DicomNetworkError {
            throw CommandFailure("C-ECHO to \(node) failed: \(error)")
        }
        print("C-ECHO to \(node): success (\(ContinuousClock.now - start))")
    }
}
