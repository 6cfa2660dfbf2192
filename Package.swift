// swift-tools-version:6.1
import PackageDescription

// dcmimage/dcmimgle/dcmjpeg/dcmjpls (+ IJG and CharLS) for DICOMweb: rendering to JPEG and transcoding.
let dcmtkLibraries: [LinkerSetting] = [
    "dcmimage", "dcmjpeg", "dcmjpls", "dcmimgle", "ijg8", "ijg12", "ijg16", "dcmtkcharls", "dcmtls", "dcmnet", "dcmdata",
    "oflog", "ofstd",
].map { .linkedLibrary($0) }

let package = Package(
    name: "dicom-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "dicom-gateway", targets: ["dicom-gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The operators' HTTP API; without its swift-configuration support, which we do not use.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // NIOHTTPTypes: the request and response parts the HTTP API's limits handler sees (Hummingbird's own dependency).
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        // HTTPS for the HTTP API (HummingbirdTLS is built on it; Hummingbird's own dependency).
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // The PostgreSQL index engine (issue 16): GatewayStore's PostgresIndexConnection.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // The only C++ in the tree: DCMTK behind a plain C API.
        .target(
            name: "CDcmtk",
            path: "CDcmtk",
            cxxSettings: [.unsafeFlags(["-Wno-deprecated-declarations"])],
            // OpenSSL (libssl-dev, which libdcmtk-dev depends on): libcrypto for SHA-256 of data sets as they arrive,
            // libssl for DICOM TLS (the gate's non-blocking handshakes, with dcmtls's contexts).
            // zlib: the input-limits scanner inflates Deflated Explicit VR Little Endian data sets.
            linkerSettings: dcmtkLibraries + [.linkedLibrary("ssl"), .linkedLibrary("crypto"), .linkedLibrary("z")]
        ),
        .target(name: "DicomCore"),
        .target(
            name: "DicomNetwork",
            dependencies: [
                "CDcmtk", "DicomCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "GatewayConfig",
            dependencies: ["DicomCore", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "GatewayRouting", dependencies: ["DicomCore", "GatewayConfig"]),
        // PS3.15 A.5 audit messages and their transports (syslog over UDP and TLS, file, spool).
        // A small C shim over OpenSSL (libssl-dev, already needed by DCMTK) for RFC 5425 syslog over TLS.
        .target(name: "CAuditTLS", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(
            name: "GatewayAudit",
            dependencies: [
                "CAuditTLS", "GatewayConfig",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The reporting worklist's decisions (rules, deadlines, allocation); state lives in GatewayStore.
        .target(name: "GatewayReporting", dependencies: ["DicomCore", "GatewayConfig", "GatewayRouting"]),
        .target(
            name: "GatewayStore",
            dependencies: [
                "DicomCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .target(
            name: "GatewayRetrieval",
            dependencies: [
                "DicomCore", "GatewayConfig", "GatewayStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "GatewayAdmin",
            dependencies: [
                "DicomCore", "GatewayConfig", "GatewayStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // DICOMweb (QIDO-RS, WADO-RS, STOW-RS, UPS-RS) over the cache; never imports DicomNetwork.
        .target(
            name: "GatewayDICOMweb",
            dependencies: [
                "DicomCore", "GatewayConfig", "GatewayStore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "_NIOFileSystem", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "GatewayApp",
            dependencies: [
                "DicomCore", "DicomNetwork", "GatewayConfig", "GatewayStore", "GatewayRouting", "GatewayRetrieval", "GatewayAdmin",
                "GatewayReporting", "GatewayAudit", "GatewayDICOMweb",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "dicom-gateway",
            dependencies: [
                "GatewayApp", "DicomCore", "DicomNetwork", "GatewayConfig", "GatewayStore", "GatewayRouting", "GatewayReporting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(name: "DicomCoreTests", dependencies: ["DicomCore"]),
        .testTarget(name: "GatewayConfigTests", dependencies: ["GatewayConfig"]),
        .testTarget(name: "GatewayRoutingTests", dependencies: ["GatewayRouting", "GatewayConfig", "DicomCore"]),
        .testTarget(name: "GatewayAuditTests", dependencies: ["GatewayAudit", "GatewayConfig"]),
        // What tests share: scratch directories, loopback ports, a PostgreSQL server of their own.
        .target(name: "GatewayTestSupport", path: "Tests/GatewayTestSupport"),
        .testTarget(name: "GatewayStoreTests", dependencies: ["GatewayStore", "DicomCore", "GatewayTestSupport"]),
        .testTarget(name: "GatewayReportingTests", dependencies: ["GatewayReporting", "GatewayRouting", "GatewayConfig", "DicomCore"]),
        .testTarget(name: "GatewayRetrievalTests", dependencies: ["GatewayRetrieval", "GatewayStore", "GatewayConfig", "DicomCore"]),
        .testTarget(
            name: "GatewayAdminTests",
            dependencies: [
                "GatewayAdmin", "GatewayConfig", "GatewayStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "GatewayDICOMwebTests",
            dependencies: ["GatewayDICOMweb", "GatewayStore", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .testTarget(
            name: "GatewayIntegrationTests",
            dependencies: [
                "DicomCore", "DicomNetwork", "GatewayConfig", "GatewayStore", "GatewayApp", "GatewayRetrieval", "GatewayReporting", "GatewayAudit",
                "GatewayTestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ],
    cxxLanguageStandard: .cxx17
)

// libFuzzer targets in Swift (scripts/fuzz/run-swift): only with DICOM_GATEWAY_FUZZ=1, so the
// normal build never sees them. Build into .build-fuzz-swift, never .build.
if Context.environment["DICOM_GATEWAY_FUZZ"] == "1" {
    let fuzz: [SwiftSetting] = [.unsafeFlags(["-parse-as-library", "-sanitize=fuzzer,address"])]
    let link: [LinkerSetting] = [.unsafeFlags(["-sanitize=fuzzer,address"])]
    let targets: [(String, [Target.Dependency])] = [
        ("FuzzConfig", ["GatewayConfig", "GatewayRouting", "DicomCore"]),
        ("FuzzQuery", ["GatewayStore", "DicomCore", .product(name: "Logging", package: "swift-log")]),
        ("FuzzHTTP", [
            "GatewayAdmin", "GatewayConfig", "GatewayStore", "DicomCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
    ]
    package.targets.append(.target(name: "FuzzSupport", path: "scripts/fuzz/swift/FuzzSupport"))
    for (name, dependencies) in targets {
        package.targets.append(.executableTarget(
            name: name, dependencies: ["FuzzSupport"] + dependencies, path: "scripts/fuzz/swift/\(name)",
            swiftSettings: fuzz, linkerSettings: link))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
