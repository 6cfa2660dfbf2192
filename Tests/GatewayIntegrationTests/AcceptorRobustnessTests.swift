import DicomCore
import DicomNetwork
import Foundation
import Testing

/// TCP connections that never become associations (port scanners, load-balancer health checks,
/// half-open peers) must neither stall the acceptor nor take association slots from real callers.
@Suite(.serialized) struct AcceptorRobustnessTests {
    @Test func silentTCPConnectionDoesNotBlockOtherCallers() async throws {
        // ACSE timeout far above the client's: a caller that waits for the silent connection's
        // ACSE timeout to pass gives up first.
        let gw = try GatewayUnderTest(label: "acceptor") { c in c.gateway.acseTimeout = .seconds(120) }
        #expect(await gw.answersEcho())
        let silent = try #require(RawConnection(port: gw.port), "cannot connect to the gateway")
        try await Task.sleep(for: .milliseconds(300))  // the acceptor has picked it up by now
        let client = DicomClient(callingAE: "MODALITY", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 10))
        do {
            try await client.echo(gw.node)
        } catch {
            Issue.record("one silent TCP connection must not keep other callers out: \(error)")
        }
        silent.close()
        await gw.stop()
    }

    @Test func connectAndCloseProbesDoNotTakeTheOnlySlot() async throws {
        let gw = try GatewayUnderTest(label: "acceptor") { c in c.gateway.maxAssociations = 1 }
        #expect(await gw.answersEcho())
        #expect(await OffPool.waitUntil(timeout: 5) { gw.gateway.dicomServer.activeAssociations == 0 })
        for _ in 0..<5 { RawConnection(port: gw.port)?.close() }
        let client = DicomClient(callingAE: "MODALITY", timeouts: DicomTimeouts(connect: 5, acse: 10, dimse: 10))
        do {
            try await client.echo(gw.node)
        } catch let error as DicomNetworkError {
            Issue.record("health-check connections must not count as associations: \(error)")
        }
        #expect(await gw.answersEcho(), "the gateway must keep accepting")
        await gw.stop()
    }

    @Test func garbageInsteadOfAnAssociationRequestIsDroppedAndServiceContinues() async throws {
        let gw = try GatewayUnderTest(label: "acceptor")
        #expect(await gw.answersEcho())
        for payload in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", "\u{16}\u{03}\u{01}\u{02}\u{00}\u{01}\u{00}\u{01}\u{fc}\u{03}\u{03}",
                        String(repeating: "\u{01}", count: 4096)] {
            let c = try #require(RawConnection(port: gw.port))
            c.send(Array(payload.utf8))
            c.close()
        }
        #expect(await gw.answersEcho(), "garbage connections must not stop the listener")
        #expect(gw.storedFiles().isEmpty)
        await gw.stop()
    }
}

/// A plain TCP connection to 127.0.0.1 that speaks no DICOM.
final class RawConnection: @unchecked Sendable {
    // Safe: used by one test at a time; `close` is idempotent.
    private var fd: Int32

    init?(port: Int) {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            Glibc.close(fd)
            return nil
        }
    }

    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends; false when the peer has closed (EPIPE/ECONNRESET).
    func sendChecked(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }

    /// True once the peer has closed the connection (a read would return end of file or an error).
    func peerClosed() -> Bool {
        guard fd >= 0 else { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) <= 0
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
