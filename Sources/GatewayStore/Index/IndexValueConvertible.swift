import Foundation

/// A Swift value the index stores in one column, the same way on both engines: integers as
/// integers, Booleans as 0/1, dates as UTC text (`IndexDate`), data as blobs.
public protocol IndexValueConvertible {
    var indexValue: IndexValue { get }
    /// The value read back; nil when the stored value is NULL or not of this type.
    static func fromIndexValue(_ value: IndexValue) -> Self?
}

extension IndexValue: IndexValueConvertible {
    public var indexValue: IndexValue { self }
    public static func fromIndexValue(_ value: IndexValue) -> IndexValue? { value }
}

extension String: IndexValueConvertible {
    public var indexValue: IndexValue { .text(self) }
    public static func fromIndexValue(_ value: IndexValue) -> String? {
        switch value {
        case .text(let v): v
        case .integer(let v): String(v)
        case .real(let v): String(v)
        case .blob(let v): String(decoding: v, as: UTF8.self)
        case .null: nil
        }
    }
}

extension Int64: IndexValueConvertible {
    public var indexValue: IndexValue { .integer(self) }
    public static func fromIndexValue(_ value: IndexValue) -> Int64? {
        if case .text(let v) = value { return Int64(v) }
        return value.int64
    }
}

extension Int: IndexValueConvertible {
    public var indexValue: IndexValue { .integer(Int64(self)) }
    public static func fromIndexValue(_ value: IndexValue) -> Int? { Int64.fromIndexValue(value).map { Int($0) } }
}

extension Int32: IndexValueConvertible {
    public var indexValue: IndexValue { .integer(Int64(self)) }
    public static func fromIndexValue(_ value: IndexValue) -> Int32? { Int64.fromIndexValue(value).flatMap { Int32(exactly: $0) } }
}

extension Double: IndexValueConvertible {
    public var indexValue: IndexValue { .real(self) }
    public static func fromIndexValue(_ value: IndexValue) -> Double? {
        if case .text(let v) = value { return Double(v) }
        return value.double
    }
}

extension Bool: IndexValueConvertible {
    public var indexValue: IndexValue { .integer(self ? 1 : 0) }
    public static func fromIndexValue(_ value: IndexValue) -> Bool? { value.int64.map { $0 != 0 } }
}

extension Date: IndexValueConvertible {
    public var indexValue: IndexValue { .text(IndexDate.text(self)) }
    public static func fromIndexValue(_ value: IndexValue) -> Date? {
        switch value {
        case .text(let v): IndexDate.date(v)
        // GRDB reads a number as seconds since 1970.
        case .integer(let v): Date(timeIntervalSince1970: Double(v))
        case .real(let v): Date(timeIntervalSince1970: v)
        default: nil
        }
    }
}

extension Data: IndexValueConvertible {
    public var indexValue: IndexValue { .blob([UInt8](self)) }
    public static func fromIndexValue(_ value: IndexValue) -> Data? {
        switch value {
        case .blob(let v): Data(v)
        case .text(let v): Data(v.utf8)
        default: nil
        }
    }
}

extension Optional: IndexValueConvertible where Wrapped: IndexValueConvertible {
    public var indexValue: IndexValue { self?.indexValue ?? .null }
    /// NULL reads as `.some(nil)`: the column is there and holds no value.
    public static func fromIndexValue(_ value: IndexValue) -> Wrapped?? {
        if value == .null { return .some(nil) }
        return Wrapped.fromIndexValue(value).map { .some($0) }
    }
}

extension IndexValue {
    public init(_ value: Date) { self = value.indexValue }
    public init(_ value: (any IndexValueConvertible)?) { self = value?.indexValue ?? .null }
}
