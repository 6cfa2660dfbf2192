// The shared test support (TestDirectory, Net, PostgresServer), visible in every file of this target.
@_exported import GatewayTestSupport
