import ArgumentParser
import Foundation
import GatewayConfig

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with configuration files.", subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a configuration file; print every error as FILE:LINE:COLUMN and exit non-zero if any.")

        @Argument(help: "The YAML configuration file.") var file: String

        func run() throws {
            do {
                let c = try GatewayConfiguration.load(contentsOf: URL(fileURLWithPath: file))
                print("\(file): OK (AE \(c.gateway.aeTitle) on port \(c.gateway.port), \(c.nodes.count) node(s), storage \(c.storage.path.path))")
            } catch {
                print(error.description)
                throw ExitCode(1)
            }
        }
    }
}
