import Foundation

/// A lossyfs mount (scripts/lossyfs): a FUSE file system modelling a disk with a volatile write
/// cache. Contents are durable after fsync of the file, entries after fsync of their directory;
/// `cutPower` discards everything else, and `mount` serves the durable state again from a fresh
/// mount (no kernel cache survives). Built with `make` on first use into .build-lossyfs/.
final class LossyMount: @unchecked Sendable {
    // Safe: used from the test's own thread only.
    let directory: TestDirectory
    let store: String
    let mountpoint: String
    let torn: Double
    private(set) var server: PeerProcess?
    private(set) var cuts = 0

    /// `torn` > 0: at a cut, each unsynced page, size change and directory also survives with this
    /// probability (a write cache flushed in any order before the power went).
    init(directory: TestDirectory, name: String = "lossyfs", torn: Double = 0) {
        self.directory = directory
        store = directory.sub(name + "-store")
        mountpoint = directory.sub(name)
        self.torn = torn
    }

    /// Mounts the durable state at `mountpoint`. Throws, saying why, when lossyfs cannot be built
    /// or mounted (no /dev/fuse, mounting not permitted, libfuse3-dev missing).
    func mount() throws {
        let binary = try LossyFSBuild.binary()
        guard FileManager.default.fileExists(atPath: "/dev/fuse") else {
            throw TestFailure("lossyfs needs /dev/fuse, which this machine lacks (load the fuse module, or give the container --device /dev/fuse)")
        }
        var args = [String]()
        if torn > 0 { args += ["--torn", "\(torn)", "--seed", "\(UInt32.random(in: 1...UInt32.max))"] }
        let p = PeerProcess(binary, args + [store, mountpoint], logDirectory: directory.path)
        try p.start()
        let deadline = Date().addingTimeInterval(10)
        while !p.output.contains("lossyfs: mounted") {
            if !p.process.isRunning || Date() > deadline {
                p.stop()
                throw TestFailure("lossyfs could not mount \(mountpoint) (is /dev/fuse present and mounting permitted? we need root or fusermount3):\n\(p.output)")
            }
            usleep(5_000)
        }
        server = p
    }

    /// Cuts the power: lossyfs exits keeping only durable state, `users` (the processes writing to
    /// the mount, e.g. the gateway) are killed -9 at the same instant, and the mount is detached.
    /// Returns lossyfs's last words (fsync counts).
    @discardableResult
    func cutPower(killing users: [PeerProcess] = []) -> String {
        guard let server else { return "" }
        server.signal(SIGUSR1)
        for user in users { user.signal(SIGKILL) }
        _ = server.wait(timeout: 10)
        for user in users { _ = user.wait(timeout: 10) }
        detach()
        self.server = nil
        cuts += 1
        return server.output
    }

    /// Cuts the power and mounts the surviving state again.
    func powerCycle(killing users: [PeerProcess] = []) throws {
        cutPower(killing: users)
        try mount()
    }

    func path(_ name: String) -> String { mountpoint + "/" + name }

    private func detach() {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/fusermount3")
        p.arguments = ["-u", "-z", mountpoint]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        if (try? p.run()) != nil { p.waitUntilExit() }
    }

    deinit {
        if let server {
            server.signal(SIGTERM)
            _ = server.wait(timeout: 10)
        }
        detach()
    }
}

/// Builds lossyfs once per test run (`make -C scripts/lossyfs BUILD=.build-lossyfs`).
enum LossyFSBuild {
    private static let result: Result<String, TestFailure> = {
        let root = PythonPeer.repositoryRoot
        let build = root + "/.build-lossyfs"
        let log = NSTemporaryDirectory() + "lossyfs-make-\(getpid()).log"
        _ = FileManager.default.createFile(atPath: log, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/make")
        p.arguments = ["-s", "-C", root + "/scripts/lossyfs", "BUILD=" + build]
        p.standardOutput = FileHandle(forWritingAtPath: log)
        p.standardError = FileHandle(forWritingAtPath: log)
        guard (try? p.run()) != nil else { return .failure(TestFailure("cannot run /usr/bin/make to build lossyfs (install make and libfuse3-dev: scripts/setup)")) }
        p.waitUntilExit()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: log)
        guard p.terminationStatus == 0 else { return .failure(TestFailure("building lossyfs failed (scripts/setup installs libfuse3-dev and fuse3):\n\(output)")) }
        return .success(build + "/lossyfs")
    }()

    static func binary() throws -> String { try result.get() }
}

/// Plain POSIX file operations for tests on a lossyfs mount, each saying what failed.
enum POSIXFile {
    static func write(_ path: String, _ bytes: [UInt8], at offset: Int = 0, fsync sync: Bool = false, truncate: Bool = false) throws {
        let fd = open(path, O_WRONLY | O_CREAT | (truncate ? O_TRUNC : 0), 0o644)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n == bytes.count else { throw failure("pwrite", path) }
        if sync, fsync(fd) != 0 { throw failure("fsync", path) }
    }

    static func fsyncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// fsync of a directory: makes its entries (creations, renames, unlinks) durable.
    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    static func truncate(_ path: String, to size: Int) throws {
        guard Glibc.truncate(path, off_t(size)) == 0 else { throw failure("truncate", path) }
    }

    /// The file's bytes, or nil when it does not exist.
    static func read(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { [UInt8]($0) }
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    static func failure(_ call: String, _ path: String) -> TestFailure {
        TestFailure("\(call) \(path): \(String(cString: strerror(errno)))")
    }
}
