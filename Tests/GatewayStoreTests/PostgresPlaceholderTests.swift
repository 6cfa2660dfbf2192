import Testing

@testable import GatewayStore

/// `?` placeholders (SQLite's) numbered for PostgreSQL, outside literals and comments only.
@Suite struct PostgresPlaceholderTests {
    @Test func numbersPlaceholdersInOrder() {
        let (sql, count, _) = SQLPlaceholders.numbered("SELECT a FROM t WHERE b = ? AND c IN (?, ?)")
        #expect(sql == "SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)")
        #expect(count == 3)
    }

    @Test func leavesLiteralsIdentifiersAndCommentsAlone() {
        let input = """
            SELECT 'is it?', 'it''s ?', "odd?name", ? -- why?
            /* what? */ FROM t WHERE x = ?
            """
        let (sql, count, _) = SQLPlaceholders.numbered(input)
        #expect(count == 2)
        #expect(sql == """
            SELECT 'is it?', 'it''s ?', "odd?name", $1 -- why?
            /* what? */ FROM t WHERE x = $2
            """)
    }

    @Test func unterminatedLiteralSwallowsTheRest() {
        let (sql, count, _) = SQLPlaceholders.numbered("SELECT 'open ? ")
        #expect(count == 0)
        #expect(sql == "SELECT 'open ? ")
    }

    @Test func namesBecomeNumbersOnceEachAndCastsStay() {
        let (sql, count, names) = SQLPlaceholders.numbered(
            "SELECT x::text FROM t WHERE a = :uid AND b <= :now AND c = :uid AND d = ':lit' -- :comment")
        #expect(sql == "SELECT x::text FROM t WHERE a = $1 AND b <= $2 AND c = $1 AND d = ':lit' -- :comment")
        #expect(count == 2)
        #expect(names == ["uid", "now"])
    }

    @Test func scriptsSplitAtSemicolonsOutsideLiterals() {
        let statements = SQLPlaceholders.statements("CREATE TABLE a (x text DEFAULT ';'); -- a; comment\n INSERT INTO a VALUES ('b;c');;")
        #expect(statements == ["CREATE TABLE a (x text DEFAULT ';')", "-- a; comment\n INSERT INTO a VALUES ('b;c')"])
    }
}
