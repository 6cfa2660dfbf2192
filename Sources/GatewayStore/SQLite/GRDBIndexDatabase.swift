import Foundation
import GRDB

/// The SQLite side of `IndexDatabase`: GRDB's connection inside one transaction or read.
/// Cached statements stay prepared on the connection (parsing the SQL per instance was the
/// largest CPU cost of a C-STORE before).
final class GRDBIndexDatabase: IndexDatabase {
    unowned let db: Database

    init(_ db: Database) { self.db = db }

    var dialect: IndexDialect { .sqlite }

    @discardableResult
    func executeStatement(_ sql: String, _ arguments: IndexArguments, cached: Bool) throws -> Int {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        try statement.execute(arguments: Self.arguments(arguments))
        return db.changesCount
    }

    func forEachRow(_ sql: String, _ arguments: IndexArguments, cached: Bool, _ body: (IndexRow) throws -> Bool) throws {
        let statement = cached ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        let columns = IndexColumns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: Self.arguments(arguments))
        while let row = try cursor.next() {
            var values: [IndexValue] = []
            values.reserveCapacity(row.count)
            for value in row.databaseValues { values.append(Self.value(value)) }
            guard try body(IndexRow(columns: columns, values: values)) else { break }
        }
    }

    func insertReturningID(_ sql: String, _ arguments: IndexArguments) throws -> Int64 {
        let statement = try db.cachedStatement(sql: sql)
        guard let id = try Int64.fetchOne(statement, arguments: Self.arguments(arguments)) else {
            throw StoreError("the index insert returned no id (the statement must end in RETURNING id)")
        }
        return id
    }

    func inSavepoint<T>(_ body: () throws -> T) throws -> T {
        var result: T?
        try db.inSavepoint {
            result = try body()
            return .commit
        }
        return result!
    }

    func executeScript(_ sql: String) throws {
        try db.execute(sql: sql)
    }

    static func arguments(_ arguments: IndexArguments) -> StatementArguments {
        if !arguments.named.isEmpty {
            return StatementArguments(arguments.named.mapValues { databaseValue($0) })
        }
        return StatementArguments(arguments.positional.map { databaseValue($0) })
    }

    static func databaseValue(_ value: IndexValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .integer(let v): v.databaseValue
        case .real(let v): v.databaseValue
        case .text(let v): v.databaseValue
        case .blob(let v): Data(v).databaseValue
        }
    }

    static func value(_ value: DatabaseValue) -> IndexValue {
        switch value.storage {
        case .null: .null
        case .int64(let v): .integer(v)
        case .double(let v): .real(v)
        case .string(let v): .text(v)
        case .blob(let v): .blob([UInt8](v))
        }
    }
}

extension IndexArguments {
    /// The same values as GRDB's arguments (tests that open an index file themselves, read-only).
    public var sqliteArguments: StatementArguments { GRDBIndexDatabase.arguments(self) }
}

extension IndexRow {
    /// A row GRDB read (tests that open an index file themselves, read-only).
    public init(_ row: Row) {
        self.init(columns: IndexColumns(Array(row.columnNames)), values: row.databaseValues.map(GRDBIndexDatabase.value))
    }
}
