import GatewayStore
import ServiceLifecycle

/// Keeps files prepared for incoming instances (see `PreparedFiles`, started by `Gateway.init` so
/// that files are ready before the first association) while the gateway runs. It stops after the
/// DICOM and HTTP listeners (it is placed before them in the service group), then removes the files
/// never used, so a clean shutdown leaves none behind.
struct PreparedFilesService: Service {
    let files: PreparedFiles

    func run() async throws {
        files.start()
        try? await gracefulShutdown()
        files.close()
    }
}
