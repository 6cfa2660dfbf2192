import ArgumentParser
import DicomNetwork
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
                if let tls = c.gateway.tls {
                    // What only OpenSSL can tell: not PEM, expired, a key that is not the certificate's.
                    do {
                        _ = try TLSContext(role: .listener, .init(
                            certificate: tls.certificate.path, privateKey: tls.privateKey.path, trusted: tls.trusted.path,
                            crl: tls.crl?.path, profile: tls.profile == .bcp195Extended ? .bcp195Extended : .bcp195ND))
                    } catch {
                        print("\(file): gateway.tls: \(error.message)")
                        throw ExitCode(1)
                    }
                    for warning in tls.warnings { print("\(file): warning: gateway.tls: \(warning)") }
                }
                let ports = c.gateway.port == 0 ? "TLS port \(c.gateway.tls?.port ?? 0)"
                    : "port \(c.gateway.port)" + (c.gateway.tls.map { ", TLS port \($0.port)" } ?? "")
                print("\(file): OK (AE \(c.gateway.aeTitle) on \(ports), \(c.nodes.count) node(s), storage \(c.storage.path.path))")
            } catch let exit as ExitCode {
                throw exit
            } catch {
                print("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
