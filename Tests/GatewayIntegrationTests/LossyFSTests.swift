import Foundation
import Testing

/// The power-loss file system's own model (scripts/lossyfs): what a power cut keeps and loses.
/// Each test writes through a real FUSE mount, cuts the power, mounts the durable state again
/// (a fresh mount: nothing comes from the kernel's cache) and reads what survived.
@Suite(.serialized) struct LossyFSTests {
    private func mounted(_ label: String, torn: Double = 0) throws -> LossyMount {
        let fs = LossyMount(directory: TestDirectory("lossyfs-\(label)"), torn: torn)
        try fs.mount()
        return fs
    }

    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func writeThenFsyncSurvivesPowerCut() throws {
        let fs = try mounted("fsync")
        try POSIXFile.write(fs.path("a"), bytes("durable"), fsync: true)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("a")) == bytes("durable"))
    }

    @Test func unsyncedWriteIsLost() throws {
        let fs = try mounted("unsynced")
        try POSIXFile.write(fs.path("a"), bytes("first version"), fsync: true)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        try POSIXFile.write(fs.path("a"), bytes("SECOND"))  // no fsync; closing it syncs nothing
        #expect(POSIXFile.read(fs.path("a")) == bytes("SECONDversion"), "before the cut the write is visible")
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("a")) == bytes("first version"))
    }

    @Test func sizeChangeWithoutFsyncReverts() throws {
        let fs = try mounted("size")
        try POSIXFile.write(fs.path("grow"), bytes("12345678"), fsync: true)
        try POSIXFile.write(fs.path("shrink"), bytes("12345678"), fsync: true)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        try POSIXFile.truncate(fs.path("grow"), to: 100_000)
        try POSIXFile.write(fs.path("grow"), bytes("tail"), at: 200_000)
        try POSIXFile.truncate(fs.path("shrink"), to: 3)
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("grow")) == bytes("12345678"))
        #expect(POSIXFile.read(fs.path("shrink")) == bytes("12345678"))
        // With fsync, the new sizes (and the zeros of the extension) are what survives.
        try POSIXFile.truncate(fs.path("grow"), to: 10)
        try POSIXFile.fsyncFile(fs.path("grow"))
        try POSIXFile.truncate(fs.path("shrink"), to: 3)
        try POSIXFile.fsyncFile(fs.path("shrink"))
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("grow")) == bytes("12345678") + [0, 0])
        #expect(POSIXFile.read(fs.path("shrink")) == bytes("123"))
    }

    @Test func renameIsDurableOnlyWithDirectoryFsync() throws {
        let fs = try mounted("rename")
        try POSIXFile.write(fs.path("x.part"), bytes("data"), fsync: true)
        try POSIXFile.write(fs.path("y.part"), bytes("data"), fsync: true)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        #expect(rename(fs.path("x.part"), fs.path("x")) == 0)
        #expect(rename(fs.path("y.part"), fs.path("y")) == 0)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        #expect(rename(fs.path("x"), fs.path("x.moved")) == 0)  // this one without a directory fsync
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("y")) == bytes("data"), "rename followed by fsync of the directory survives")
        #expect(!POSIXFile.exists(fs.path("y.part")))
        #expect(POSIXFile.read(fs.path("x")) == bytes("data"), "rename without fsync of the directory reverts")
        #expect(!POSIXFile.exists(fs.path("x.moved")))
    }

    @Test func createdFileWhoseDirectoryWasNotSyncedDisappears() throws {
        let fs = try mounted("create")
        try FileManager.default.createDirectory(atPath: fs.path("d"), withIntermediateDirectories: false)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        try POSIXFile.fsyncDirectory(fs.path("d"))
        try POSIXFile.write(fs.path("d/orphan"), bytes("synced contents"), fsync: true)  // file fsync'd, directory not
        try POSIXFile.write(fs.path("d/kept"), bytes("synced"), fsync: true)
        try POSIXFile.write(fs.path("d/empty"), bytes("never synced"))
        try FileManager.default.createDirectory(atPath: fs.path("newdir"), withIntermediateDirectories: false)
        try fs.powerCycle()
        #expect(!POSIXFile.exists(fs.path("d/orphan")), "fsync of a new file does not make its entry durable")
        #expect(!POSIXFile.exists(fs.path("newdir")))
        // Once the directory is synced, the entry survives; contents never synced come back empty.
        try POSIXFile.write(fs.path("d/kept"), bytes("synced"), fsync: true)
        try POSIXFile.write(fs.path("d/empty"), bytes("never synced"))
        try POSIXFile.fsyncDirectory(fs.path("d"))
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("d/kept")) == bytes("synced"))
        #expect(POSIXFile.read(fs.path("d/empty")) == [], "an entry made durable without its contents is empty")
    }

    @Test func unlinkWithoutDirectoryFsyncReverts() throws {
        let fs = try mounted("unlink")
        try POSIXFile.write(fs.path("a"), bytes("A"), fsync: true)
        try POSIXFile.write(fs.path("b"), bytes("B"), fsync: true)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        #expect(unlink(fs.path("a")) == 0)
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("a")) == bytes("A"))
        #expect(unlink(fs.path("b")) == 0)
        try POSIXFile.fsyncDirectory(fs.mountpoint)
        try fs.powerCycle()
        #expect(!POSIXFile.exists(fs.path("b")))
    }

    /// What SQLite's WAL mode relies on besides fsync: an unlinked file stays usable through its
    /// descriptor, a shared writable mapping is coherent with pread, and POSIX locks conflict.
    @Test func openUnlinkedFilesSharedMappingsAndLocksWork() throws {
        let fs = try mounted("posix")
        let path = fs.path("shm")
        let fd = open(path, O_RDWR | O_CREAT, 0o644)
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(ftruncate(fd, 32_768) == 0)
        let map = try #require(mmap(nil, 32_768, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0), "mmap MAP_SHARED")
        try #require(map != MAP_FAILED, "mmap MAP_SHARED: \(String(cString: strerror(errno)))")
        map.storeBytes(of: 0xAB, toByteOffset: 20_000, as: UInt8.self)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, 20_000) == 1 && byte == 0xAB, "a store through the mapping is visible to pread")
        byte = 0xCD
        #expect(pwrite(fd, &byte, 1, 100) == 1)
        #expect(map.load(fromByteOffset: 100, as: UInt8.self) == 0xCD, "pwrite is visible through the mapping")
        #expect(msync(map, 32_768, MS_SYNC) == 0)
        munmap(map, 32_768)

        // Open file description locks conflict between two descriptors of one process
        // (F_OFD_SETLK is 37 on Linux; Glibc exports it to Swift only with _GNU_SOURCE).
        let F_OFD_SETLK: Int32 = 37
        let other = open(path, O_RDWR)
        defer { close(other) }
        var lock = flock(l_type: Int16(F_WRLCK), l_whence: Int16(SEEK_SET), l_start: 0, l_len: 10, l_pid: 0)
        #expect(fcntl(fd, F_OFD_SETLK, &lock) == 0)
        var second = flock(l_type: Int16(F_WRLCK), l_whence: Int16(SEEK_SET), l_start: 5, l_len: 10, l_pid: 0)
        #expect(fcntl(other, F_OFD_SETLK, &second) == -1 && errno == EAGAIN, "a conflicting lock is refused")

        #expect(unlink(path) == 0)
        #expect(!POSIXFile.exists(path))
        byte = 0x11
        #expect(pwrite(fd, &byte, 1, 40_000) == 1)
        #expect(pread(fd, &byte, 1, 20_000) == 1 && byte == 0xAB, "the unlinked file is still readable")
        #expect(fsync(fd) == 0)
    }

    /// A directory's link count is 2 + its subdirectories, as fts(3) and FileManager's enumerator
    /// (which the gateway's recovery walks the cache with) rely on.
    @Test func nestedDirectoriesAreEnumerated() throws {
        let fs = try mounted("walk")
        try FileManager.default.createDirectory(atPath: fs.path("a/b/c"), withIntermediateDirectories: true)
        try POSIXFile.write(fs.path("a/b/c/deep.dcm"), bytes("x"))
        try POSIXFile.write(fs.path("a/top.dcm"), bytes("x"))
        let walked = Set((FileManager.default.enumerator(atPath: fs.mountpoint)?.allObjects as? [String]) ?? [])
        #expect(walked.isSuperset(of: ["a/b/c/deep.dcm", "a/top.dcm"]), "walked: \(walked)")
        var st = stat()
        #expect(stat(fs.path("a"), &st) == 0 && st.st_nlink == 3)
    }

    /// Torn mode: a cut also keeps an arbitrary part of what was not synced (here all of it, P = 1).
    @Test func tornModeKeepsUnsyncedStateWithItsProbability() throws {
        let fs = try mounted("torn", torn: 1)
        try POSIXFile.write(fs.path("a"), bytes("never synced"))
        try fs.powerCycle()
        #expect(POSIXFile.read(fs.path("a")) == bytes("never synced"))
    }
}
