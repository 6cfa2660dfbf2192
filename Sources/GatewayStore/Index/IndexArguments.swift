/// The values bound to a statement: by position (`?`) or by name (`:name`), never both.
public struct IndexArguments: Sendable {
    public var positional: [IndexValue]
    public var named: [String: IndexValue]

    public init(values positional: [IndexValue] = []) {
        self.positional = positional
        named = [:]
    }

    public init(_ values: [(any IndexValueConvertible)?]) {
        self.init(values: values.map { IndexValue($0) })
    }

    public init(named: [String: IndexValue]) {
        positional = []
        self.named = named
    }

    public var isEmpty: Bool { positional.isEmpty && named.isEmpty }

    /// Adds values by position (for statements built up clause by clause).
    public mutating func append(_ value: (any IndexValueConvertible)?) { positional.append(IndexValue(value)) }
    public mutating func append(contentsOf values: [(any IndexValueConvertible)?]) {
        positional.append(contentsOf: values.map { IndexValue($0) })
    }
    public static func += (a: inout IndexArguments, values: [(any IndexValueConvertible)?]) {
        a.append(contentsOf: values)
    }
    public static func + (a: IndexArguments, b: IndexArguments) -> IndexArguments {
        var sum = a
        sum.positional += b.positional
        sum.named.merge(b.named) { _, new in new }
        return sum
    }
}

extension IndexArguments: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: (any IndexValueConvertible)?...) {
        self.init(values: elements.map { IndexValue($0) })
    }
}

extension IndexArguments: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, (any IndexValueConvertible)?)...) {
        var named: [String: IndexValue] = [:]
        for (name, value) in elements { named[name] = IndexValue(value) }
        self.init(named: named)
    }
}
