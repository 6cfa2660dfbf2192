import Foundation

/// A PostgreSQL 15 server of the test's own (Debian's /usr/lib/postgresql/15): initdb in a temporary
/// directory owned by the unprivileged `postgres` user (tests run as root, which initdb refuses),
/// its own free loopback port, its unix socket inside that directory, fsync and synchronous_commit on
/// (the durability the gateway's acknowledgement relies on). A database and a password login role are
/// made for the gateway. `kill9()` and `start()` let tests crash and restart it under load.
/// Every method blocks: call from a thread of its own (OffPool.run) inside async tests.
public final class PostgresServer: @unchecked Sendable {
    // Safe: everything but `pgctl` runs is immutable after init; tests drive one server from one task.
    public static let binDir = "/usr/lib/postgresql/15/bin"
    public let dir: TestDirectory
    public let port: Int
    public let host = "127.0.0.1"
    public let user = "gateway"
    public let password: String
    public let database = "dicom_gateway"
    public var dataDir: String { dir.path + "/data" }
    public var socketDir: String { dir.path + "/sock" }
    public var logPath: String { dir.path + "/postgresql.log" }

    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binDir + "/initdb") }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// initdb, start, wait for pg_isready, create the role and the database.
    public init(label: String = "pg") throws {
        guard Self.isInstalled else { throw Failure(description: "PostgreSQL 15 is not installed at \(Self.binDir) (scripts/setup installs it)") }
        dir = TestDirectory(label)
        port = Net.freePort()
        password = "pw-" + UUID().uuidString.prefix(12)
        try FileManager.default.createDirectory(atPath: socketDir, withIntermediateDirectories: true)
        try run("/usr/bin/chown", ["-R", "postgres:postgres", dir.path])
        try chmod(dir.path, 0o700)
        try asPostgres("initdb", ["-D", dataDir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
                                  "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"])
        let settings = """

            # dicom-gateway tests
            port = \(port)
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '\(socketDir)'
            fsync = on
            synchronous_commit = on
            max_connections = 60
            shared_buffers = 32MB
            logging_collector = off

            """
        let conf = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDir + "/postgresql.conf"))
        conf.seekToEndOfFile()
        conf.write(Data(settings.utf8))
        try conf.close()
        try start()
        try psql("CREATE ROLE \(user) LOGIN PASSWORD '\(password)'")
        try psql("CREATE DATABASE \(database) OWNER \(user)")
    }

    deinit { stop() }

    /// Starts the server (again, after `stop()` or `kill9()`) and waits until it accepts connections.
    public func start(timeout: Double = 30) throws {
        do {
            try asPostgres("pg_ctl", ["start", "-D", dataDir, "-l", logPath, "-w", "-t", "\(Int(timeout))"])
        } catch {
            throw Failure(description: "\(error); server log:\n\(log().suffix(2000))")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while !isReady() {
            if Date() >= deadline { throw Failure(description: "PostgreSQL on port \(port) not ready after \(timeout) s; log:\n\(log())") }
            usleep(100_000)
        }
    }

    /// pg_isready against the TCP port.
    public func isReady() -> Bool {
        (try? run(Self.binDir + "/pg_isready", ["-h", host, "-p", "\(port)", "-t", "2"], asPostgres: true)) != nil
    }

    /// A fast shutdown (pg_ctl stop -m fast): sessions are ended, the data stays.
    public func stop() {
        guard postmasterPID() != nil else { return }
        _ = try? asPostgres("pg_ctl", ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"])
    }

    /// kill -9 of the postmaster and of every server process under it, as a crash of its host would:
    /// no shutdown, the next start runs crash recovery from the WAL.
    public func kill9() throws {
        guard let pid = postmasterPID() else { throw Failure(description: "PostgreSQL on port \(port) is not running") }
        let children = (try? run("/usr/bin/pgrep", ["-P", "\(pid)"]))?
            .split(separator: "\n").compactMap { Int32($0.trimmingCharacters(in: .whitespaces)) } ?? []
        kill(pid, SIGKILL)
        for child in children { kill(child, SIGKILL) }
        let deadline = Date().addingTimeInterval(10)
        while ([pid] + children).contains(where: Self.isAlive) && Date() < deadline { usleep(20_000) }
        // A postmaster that no one has reaped yet (a zombie: this machine's init may not reap) would make the next
        // start refuse its lock files (postmaster starts check their pid with kill 0): remove them, as a reboot would.
        if !Self.isAlive(pid) {
            for path in [dataDir + "/postmaster.pid", socketDir + "/.s.PGSQL.\(port).lock", socketDir + "/.s.PGSQL.\(port)"] {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// Alive and not a zombie (state Z in /proc/PID/stat).
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return true }
        return !stat[close...].dropFirst(2).hasPrefix("Z")
    }

    /// The postmaster's pid from postmaster.pid, when that process is alive.
    public func postmasterPID() -> Int32? {
        guard let text = try? String(contentsOfFile: dataDir + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = Int32(first), Self.isAlive(pid)
        else { return nil }
        return pid
    }

    /// Runs SQL as the superuser over the unix socket; returns psql's unaligned output.
    @discardableResult
    public func psql(_ sql: String, database: String = "postgres") throws -> String {
        try run(Self.binDir + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDir, "-p", "\(port)",
                                        "-U", "postgres", "-d", database, "-c", sql], asPostgres: true)
    }

    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    // MARK: Processes

    @discardableResult
    private func asPostgres(_ tool: String, _ arguments: [String]) throws -> String {
        try run(Self.binDir + "/" + tool, arguments, asPostgres: true)
    }

    private func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    /// Runs a command to completion (as `postgres` through runuser when asked); throws with its output
    /// when it exits non-zero. posix_spawn and waitpid, not Foundation's Process: Process learns of an exit
    /// from a socket the child inherits, and `pg_ctl start` hands it on to the postmaster, which outlives it.
    /// The child gets no descriptor of ours but its output file (closefrom 3).
    @discardableResult
    private func run(_ executable: String, _ arguments: [String], asPostgres: Bool = false, timeout: Double = 60) throws -> String {
        let outPath = dir.path + "/cmd-\(UUID().uuidString.prefix(8)).out"
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        // env --chdir=/: the postgres user may not enter the test's working directory.
        let argv = asPostgres
            ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/env", "--chdir=/", executable] + arguments
            : [executable] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        Self.addCloseFrom(&actions, 3)
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { cArgs.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, argv[0], &actions, nil, cArgs, environ)
        guard rc == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        let deadline = Date().addingTimeInterval(timeout)
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() >= deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw Failure(description: "\(argv.joined(separator: " ")) did not finish in \(timeout) s")
            }
            usleep(10_000)
        }
        let text = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw Failure(description: "\((executable as NSString).lastPathComponent) \(arguments.joined(separator: " ")) "
                + (exited ? "exited \(code)" : "was killed by signal \(status & 0x7f)") + ": \(text)")
        }
        return text
    }

    /// glibc's posix_spawn_file_actions_addclosefrom_np (2.34+), which Swift's Glibc module does not export.
    private static func addCloseFrom(_ actions: inout posix_spawn_file_actions_t, _ from: Int32) {
        typealias Function = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return }
        _ = unsafeBitCast(symbol, to: Function.self)(&actions, from)
    }
}

extension PostgresServer {
    /// One server for the whole test process, started at its first use and stopped at exit
    /// (suites that run on both engines give each test a database of its own on it).
    public static var shared: PostgresServer {
        SharedPostgres.lock.lock()
        defer { SharedPostgres.lock.unlock() }
        if let server = SharedPostgres.server { return server }
        do {
            let server = try PostgresServer(label: "pg-shared")
            SharedPostgres.server = server
            atexit {
                SharedPostgres.server?.stop()
                if let path = SharedPostgres.server?.dir.path { try? FileManager.default.removeItem(atPath: path) }
            }
            return server
        } catch {
            fatalError("cannot start the tests' PostgreSQL server: \(error)")
        }
    }

    /// A new empty database owned by the gateway's role; returns its name.
    public func createDatabase(prefix: String = "t") throws -> String {
        let name = prefix.lowercased().filter { $0.isLetter || $0.isNumber } + "_" + UUID().uuidString.prefix(12).lowercased()
            .replacingOccurrences(of: "-", with: "")
        _ = try psql("CREATE DATABASE \(name) OWNER \(user)")
        return name
    }
}

private enum SharedPostgres {
    nonisolated(unsafe) static var server: PostgresServer?
    static let lock = NSLock()
}
