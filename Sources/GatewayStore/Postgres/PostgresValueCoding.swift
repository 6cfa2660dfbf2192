import Foundation
import NIOCore
import PostgresNIO

/// IndexValue to and from PostgreSQL's binary wire format.
enum PostgresValueCoding {
    static func bind(_ value: IndexValue, to binds: inout PostgresBindings) {
        switch value {
        case .null: binds.appendNull()
        case .integer(let v): binds.append(v)
        case .real(let v): binds.append(v)
        case .text(let v): binds.append(v)
        case .blob(let v): binds.append(ByteBuffer(bytes: v))
        }
    }

    /// Integers (smallint, integer, bigint) and booleans (as 0/1) read as `.integer`, floating point as
    /// `.real`, bytea as `.blob`, everything else as its text.
    static func value(of cell: PostgresCell) throws -> IndexValue {
        guard let bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .bytea: return .blob(Array(bytes.readableBytesView))
        case .numeric:
            // sum() of bigint columns answers numeric on PostgreSQL (an integer on SQLite).
            let text = try cell.decode(Decimal.self).description
            if let integer = Int64(text) { return .integer(integer) }
            return .real(Double(text) ?? .nan)
        default: return .text(try cell.decode(String.self))
        }
    }
}
