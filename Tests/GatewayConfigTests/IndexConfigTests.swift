import Foundation
import GatewayConfig
import Testing

/// The `index:` and `cluster:` sections: SQLite by default, or one PostgreSQL database shared by nodes.
@Suite struct IndexConfigTests {
    @Test func theEmbeddedSQLiteIndexIsTheDefault() throws {
        let config = try parse("")
        #expect(config.index.postgres == nil)
        #expect(config.index.readers == 4)
        #expect(!config.cluster.nodeID.isEmpty)
    }

    @Test func aPostgreSQLURLAndPasswordFileAreRead() throws {
        let dir = NSTemporaryDirectory() + "dgw-indexcfg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/pg.password", contents: Data("secret\n".utf8))
        let yaml = """
            cluster: { node_id: gw-a }
            index:
              url: postgresql://gateway@10.3.0.10:5433/dicom_gateway
              password_file: pg.password
              readers: 6
            """
        let config = try GatewayConfiguration.parse(yaml: yaml, sourceName: "t.yaml", baseDirectory: URL(fileURLWithPath: dir))
        let pg = try #require(config.index.postgres)
        #expect(pg.host == "10.3.0.10" && pg.port == 5433 && pg.user == "gateway" && pg.database == "dicom_gateway")
        #expect(config.index.passwordFile?.path == dir + "/pg.password")
        #expect(config.index.readers == 6)
        #expect(config.cluster.nodeID == "gw-a")
        #expect(try parse("index: { url: 'postgres://g@db/x' }").index.postgres?.port == 5432)
    }

    @Test(arguments: [
        ("mysql://gateway@db/x", "is not a PostgreSQL URL"),
        ("postgresql://gateway:hunter2@db/x", "holds a password; put it in password_file"),
        ("postgresql://db/x", "needs a user and a host"),
        ("postgresql://gateway@db", "needs a database name"),
        ("postgresql://gateway@db/x?sslmode=require", "needs a database name after the host, and no options"),
    ])
    func aBadURLIsRefusedWhereItIsWritten(_ url: String, _ message: String) {
        let d = singleDiagnostic("index:\n  url: \"\(url)\"\n")
        #expect(d?.message.contains(message) == true, "\(String(describing: d))")
        #expect(d?.line == 2, "\(String(describing: d))")
        #expect(d?.message.contains("hunter2") != true, "the password is never repeated")
    }

    @Test func aMissingPasswordFileAndABadNodeIDAreRefused() {
        let d = singleDiagnostic("index:\n  url: postgresql://g@db/x\n  password_file: /nonexistent/pg.password\n")
        #expect(d?.line == 3 && d?.message.contains("cannot read the password file /nonexistent/pg.password") == true,
                "\(String(describing: d))")
        let n = singleDiagnostic("cluster:\n  node_id: \"gw a\"\n")
        #expect(n?.line == 2 && n?.message.contains("node_id must be") == true, "\(String(describing: n))")
    }
}
