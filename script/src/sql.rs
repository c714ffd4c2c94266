//! The SQL gate: what a statement does, read by a SQL parser before it reaches
//! the server, and the one text that is sent. A statement is refused when the
//! server could run more than the parser read (MySQL's executable comments
//! `/*! ... */` and `/*M! ... */`, optimizer hints `/*+ ... */`), when it names
//! a table outside the connection's database, calls a function that is not a
//! plain computation (`SLEEP`, `BENCHMARK`, `LOAD_FILE`, locks, user-defined
//! functions), reads or sets variables, writes a file (`INTO OUTFILE`), or
//! hides a change inside a query (`WITH ... DELETE`). What passes is sent as
//! the parser re-serialises it, comments stripped: what was checked is what
//! runs. Values go through `?` parameters, so a quoted string literal in the
//! text is refused (that is where string-built SQL, and injection, would show).
//!
//! Each table the statement touches is given the operation it undergoes: the
//! target of a `DELETE`, `UPDATE` or `INSERT` that statement's kind (`REPLACE`
//! also deletes, `ON DUPLICATE KEY UPDATE` also updates), every other mention
//! `select`; a grant must allow each.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;

use sqlparser::ast::{
    Delete, Expr, FromTable, Insert, ObjectName, ObjectNamePart, OnInsert, Query, SetExpr, Statement, TableFactor,
    TableObject, TableWithJoins, UpdateTableFromKind, Value, Visit, Visitor,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

/// What a statement does to a table, as grants name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    /// Reads rows (`SELECT`, and every table a statement only reads).
    Select,
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
}

impl Op {
    /// The word grants use.
    pub fn word(self) -> &'static str {
        match self {
            Op::Select => "select",
            Op::Insert => "insert",
            Op::Update => "update",
            Op::Delete => "delete",
        }
    }
}

/// A statement the gate read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The statement's kind.
    pub kind: Op,
    /// Every table it touches (lower case, unqualified) with what it does to it.
    pub access: BTreeMap<String, BTreeSet<Op>>,
    /// The statement as parsed, written out again without comments: what is sent.
    pub text: String,
}

/// Why a statement is refused before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong.
    pub reason: String,
    /// The fix.
    pub help: String,
}

fn refusal(reason: impl Into<String>, help: impl Into<String>) -> Refusal {
    Refusal { reason: reason.into(), help: help.into() }
}

/// Functions a statement may call: computations on the values in front of
/// them. Anything else (sleeping, locking, files, user-defined functions,
/// server state) is refused.
const FUNCTIONS: &[&str] = &[
    // aggregates and window functions
    "COUNT SUM MIN MAX AVG GROUP_CONCAT BIT_AND BIT_OR BIT_XOR STDDEV VARIANCE JSON_ARRAYAGG JSON_OBJECTAGG",
    "ROW_NUMBER RANK DENSE_RANK LAG LEAD FIRST_VALUE LAST_VALUE",
    // control flow
    "IF IFNULL NULLIF COALESCE GREATEST LEAST ISNULL",
    // strings
    "CONCAT CONCAT_WS LOWER UPPER LCASE UCASE LENGTH CHAR_LENGTH CHARACTER_LENGTH SUBSTRING SUBSTR SUBSTRING_INDEX",
    "LEFT RIGHT TRIM LTRIM RTRIM REPLACE LOCATE INSTR LPAD RPAD REVERSE REPEAT FIELD FIND_IN_SET HEX UNHEX MD5 SHA1",
    "SHA2 UUID",
    // dates and times
    "NOW CURRENT_TIMESTAMP UTC_TIMESTAMP UTC_DATE CURDATE CURRENT_DATE CURTIME DATE TIME YEAR MONTH DAY DAYOFMONTH",
    "DAYOFWEEK HOUR MINUTE SECOND WEEK DATE_ADD DATE_SUB ADDDATE SUBDATE DATEDIFF TIMESTAMPDIFF TIMESTAMPADD",
    "DATE_FORMAT UNIX_TIMESTAMP FROM_UNIXTIME STR_TO_DATE",
    // numbers and JSON
    "ABS ROUND FLOOR CEIL CEILING MOD TRUNCATE SIGN POW POWER SQRT",
    "JSON_EXTRACT JSON_UNQUOTE JSON_CONTAINS JSON_LENGTH JSON_OBJECT JSON_ARRAY JSON_VALID",
];

/// Reads `sql`, sent on a connection to `database`: exactly one DML statement
/// that the server would run as parsed.
pub fn check(sql: &str, database: &str) -> Result<Checked, Refusal> {
    let unparsable = |e: &dyn std::fmt::Display| {
        refusal(format!("it does not parse as MySQL: {e}"), "write one SELECT, INSERT, UPDATE or DELETE statement")
    };
    // Tokenized once: the comments are judged, then the same tokens are parsed.
    let tokens = Tokenizer::new(&MySqlDialect {}, sql).tokenize_with_location().map_err(|e| unparsable(&e))?;
    refuse_executable_comments(&tokens)?;
    let statements = Parser::new(&MySqlDialect {})
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .map_err(|e| unparsable(&e))?;
    let [statement] = statements.as_slice() else {
        return Err(refusal(
            format!("{} statements in one call", statements.len()),
            "send one statement per call; group them with `begin()` and `commit()`",
        ));
    };
    let (kind, targets) = targets(statement)?;
    let mut gate = Gate { database: database.to_ascii_lowercase(), statements: 0, mentions: BTreeMap::new() };
    if let ControlFlow::Break(refused) = statement.visit(&mut gate) {
        return Err(refused);
    }
    let mut access: BTreeMap<String, BTreeSet<Op>> = BTreeMap::new();
    let mut mentions = gate.mentions;
    for (table, op) in targets {
        // The target's own mention is where it is changed, not read.
        if let Some(n) = mentions.get_mut(&table) {
            *n = n.saturating_sub(1);
        }
        access.entry(table).or_default().insert(op);
    }
    for (table, n) in mentions {
        if n > 0 {
            access.entry(table).or_default().insert(Op::Select);
        }
    }
    Ok(Checked { kind, access, text: statement.to_string() })
}

/// Comments the server would execute are refused; others are dropped when the
/// statement is written out again.
fn refuse_executable_comments(tokens: &[TokenWithSpan]) -> Result<(), Refusal> {
    for token in tokens {
        let Token::Whitespace(Whitespace::MultiLineComment(body)) = &token.token else { continue };
        let what = if body.starts_with('!') || body.get(..2).is_some_and(|p| p.eq_ignore_ascii_case("m!")) {
            "an executable comment"
        } else if body.starts_with('+') {
            "an optimizer hint"
        } else {
            continue;
        };
        let shown: String = body.chars().take(40).collect();
        return Err(refusal(
            format!("`/*{shown}{}*/` is {what}: the server runs what it holds, which drone's parser skips", if body.chars().count() > 40 { "..." } else { "" }),
            "write the statement without `/*!`, `/*M!` or `/*+` comments; ordinary comments are stripped before it is sent",
        ));
    }
    Ok(())
}

/// The statement's kind and the tables it changes, each with how.
fn targets(statement: &Statement) -> Result<(Op, Vec<(String, Op)>), Refusal> {
    Ok(match statement {
        Statement::Query(_) => (Op::Select, Vec::new()),
        Statement::Insert(insert) => (Op::Insert, insert_targets(insert)?),
        Statement::Update { table, from, .. } => {
            if matches!(from, Some(UpdateTableFromKind::BeforeSet(_) | UpdateTableFromKind::AfterSet(_))) {
                return Err(refusal(
                    "`UPDATE ... FROM` is not MySQL",
                    "join the tables in the UPDATE's table list: `UPDATE a JOIN b ON ... SET a.x = ?`",
                ));
            }
            // Every table of a multi-table UPDATE may be written: each must be granted `update`.
            let tables = factors(std::slice::from_ref(table)).into_iter().map(|(name, _)| (name, Op::Update));
            (Op::Update, tables.collect())
        }
        Statement::Delete(delete) => (Op::Delete, delete_targets(delete)?),
        other => {
            let text = other.to_string();
            let word: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            return Err(refusal(
                format!("`{word}` is not a statement a script may run"),
                "scripts run SELECT, INSERT, UPDATE and DELETE, as their grant allows; schema changes, \
                 session settings and transactions (use `begin()`/`commit()`) are drone's",
            ));
        }
    })
}

fn insert_targets(insert: &Insert) -> Result<Vec<(String, Op)>, Refusal> {
    let TableObject::TableName(name) = &insert.table else {
        return Err(refusal("an INSERT into a table function", "insert into a table the grant names"));
    };
    let table = table_name(name);
    let mut ops = vec![(table.clone(), Op::Insert)];
    if insert.replace_into {
        ops.push((table.clone(), Op::Delete));
    }
    if matches!(insert.on, Some(OnInsert::DuplicateKeyUpdate(_))) {
        ops.push((table, Op::Update));
    }
    Ok(ops)
}

/// A single-table DELETE changes its table; a multi-table one (`DELETE a, b
/// FROM ...`) the tables it lists, by name or alias; `USING` tables are read.
fn delete_targets(delete: &Delete) -> Result<Vec<(String, Op)>, Refusal> {
    let from = match &delete.from {
        FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
    };
    let in_from = factors(from);
    if delete.tables.is_empty() {
        return Ok(in_from.into_iter().map(|(name, _)| (name, Op::Delete)).collect());
    }
    delete
        .tables
        .iter()
        .map(|target| {
            let written = table_name(target);
            in_from
                .iter()
                .find(|(name, alias)| alias.as_deref() == Some(&written) || (alias.is_none() && *name == written))
                .map(|(name, _)| (name.clone(), Op::Delete))
                .ok_or_else(|| {
                    refusal(
                        format!("`DELETE {target}` names no table of its FROM clause"),
                        "list the tables to delete from by the names or aliases the FROM clause gives them",
                    )
                })
        })
        .collect()
}

/// The named tables of a FROM clause, with their aliases (lower case).
fn factors(from: &[TableWithJoins]) -> Vec<(String, Option<String>)> {
    fn factor(f: &TableFactor, out: &mut Vec<(String, Option<String>)>) {
        match f {
            TableFactor::Table { name, alias, .. } => {
                out.push((table_name(name), alias.as_ref().map(|a| a.name.value.to_ascii_lowercase())))
            }
            TableFactor::NestedJoin { table_with_joins, .. } => {
                factor(&table_with_joins.relation, out);
                table_with_joins.joins.iter().for_each(|j| factor(&j.relation, out));
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for t in from {
        factor(&t.relation, &mut out);
        t.joins.iter().for_each(|j| factor(&j.relation, &mut out));
    }
    out
}

/// A table's name without its database, lower case.
fn table_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(|i| i.value.to_ascii_lowercase())
        .unwrap_or_else(|| name.to_string().to_ascii_lowercase())
}

/// Walks the statement: refuses what the server would do beyond reading and
/// writing the tables named, and counts each table's mentions.
struct Gate {
    database: String,
    statements: usize,
    mentions: BTreeMap<String, usize>,
}

impl Visitor for Gate {
    type Break = Refusal;

    fn pre_visit_statement(&mut self, _: &Statement) -> ControlFlow<Refusal> {
        self.statements += 1;
        if self.statements > 1 {
            return ControlFlow::Break(refusal(
                "a statement inside another (`WITH ... DELETE`, a query that changes data)",
                "send each change as its own statement",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Refusal> {
        fn into(body: &SetExpr) -> bool {
            match body {
                SetExpr::Select(select) => select.into.is_some(),
                SetExpr::SetOperation { left, right, .. } => into(left) || into(right),
                _ => false,
            }
        }
        if into(&query.body) {
            return ControlFlow::Break(refusal(
                "`SELECT ... INTO` writes a file or a variable",
                "read the rows with `db.query(...)`; a script's results are its return value and `audit(...)`",
            ));
        }
        if let SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) = &*query.body {
            return ControlFlow::Break(refusal(
                "a query that changes data",
                "send each change as its own INSERT, UPDATE or DELETE",
            ));
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_relation(&mut self, relation: &ObjectName) -> ControlFlow<Refusal> {
        let parts: Option<Vec<String>> =
            relation.0.iter().map(|p| p.as_ident().map(|i| i.value.to_ascii_lowercase())).collect();
        let Some(parts) = parts else {
            return ControlFlow::Break(refusal(format!("`{relation}` is not a table name"), "name a table"));
        };
        match parts.as_slice() {
            [_] => {}
            [database, _] if *database == self.database => {}
            _ => {
                return ControlFlow::Break(refusal(
                    format!("`{relation}` is outside the connection's database `{}`", self.database),
                    "a grant covers tables of its cluster's database only: name them without a database",
                ))
            }
        }
        *self.mentions.entry(table_name(relation)).or_default() += 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<Refusal> {
        match factor {
            TableFactor::Table { args: None, .. } | TableFactor::Derived { .. } | TableFactor::NestedJoin { .. } => {
                ControlFlow::Continue(())
            }
            other => ControlFlow::Break(refusal(
                format!("`{other}` is not a table the grant can name"),
                "read from tables, joins and subqueries only",
            )),
        }
    }

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<Refusal> {
        match expr {
            Expr::Function(f) => {
                let name = match f.name.0.as_slice() {
                    [ObjectNamePart::Identifier(i)] => Some(i.value.to_ascii_uppercase()),
                    _ => None,
                };
                if !name.is_some_and(|n| FUNCTIONS.iter().flat_map(|line| line.split(' ')).any(|f| f == n)) {
                    return ControlFlow::Break(refusal(
                        format!("`{}` is not a function a script may call", f.name),
                        "scripts call aggregates and string, date, number and JSON functions; sleeping, \
                         locking, files, server state and user-defined functions are refused",
                    ));
                }
            }
            Expr::Identifier(i) if i.value.starts_with('@') => return variable(&i.value),
            Expr::CompoundIdentifier(parts) if parts.first().is_some_and(|i| i.value.starts_with('@')) => {
                return variable(&parts[0].value)
            }
            Expr::Value(v) => {
                if let Value::SingleQuotedString(s)
                | Value::DoubleQuotedString(s)
                | Value::NationalStringLiteral(s)
                | Value::HexStringLiteral(s)
                | Value::TripleSingleQuotedString(s)
                | Value::TripleDoubleQuotedString(s) = &v.value
                {
                    return ControlFlow::Break(refusal(
                        format!("the string literal '{s}' is written into the statement"),
                        "pass values as `?` parameters: `db.query(\"... WHERE slug = ?\", [slug])`",
                    ));
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn variable(name: &str) -> ControlFlow<Refusal> {
    ControlFlow::Break(refusal(
        format!("`{name}` is a server variable"),
        "pass values as `?` parameters and keep them in the script",
    ))
}

/// Checks `statement` against a grant: the operations allowed on each table.
pub fn allowed(statement: &Checked, grant: &BTreeMap<String, Vec<String>>) -> Result<(), Refusal> {
    let granted = || grant.iter().map(|(t, ops)| format!("{t} ({})", ops.join(", "))).collect::<Vec<_>>().join(", ");
    let outside: Vec<&str> = statement.access.keys().filter(|t| !grant.contains_key(*t)).map(String::as_str).collect();
    if !outside.is_empty() {
        return Err(refusal(
            format!("table{} {} not granted", if outside.len() == 1 { "" } else { "s" }, outside.join(", ")),
            format!("the grant names {}", granted()),
        ));
    }
    for (table, ops) in &statement.access {
        let allowed = &grant[table];
        if let Some(op) = ops.iter().find(|op| !allowed.iter().any(|a| a == op.word())) {
            return Err(refusal(
                format!("the grant does not allow {} on {table}", op.word().to_uppercase()),
                format!("it allows {}", granted()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked(sql: &str) -> Checked {
        check(sql, "ghost").unwrap_or_else(|r| panic!("{sql}: {r:?}"))
    }

    fn access(sql: &str) -> Vec<(String, Vec<&'static str>)> {
        checked(sql).access.into_iter().map(|(t, ops)| (t, ops.into_iter().map(Op::word).collect())).collect()
    }

    fn refused(sql: &str) -> String {
        match check(sql, "ghost") {
            Ok(c) => panic!("{sql} was accepted as {c:?}"),
            Err(r) => r.reason,
        }
    }

    fn grant(entries: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        entries.iter().map(|(t, ops)| (t.to_string(), ops.iter().map(|o| o.to_string()).collect())).collect()
    }

    #[test]
    fn tables_are_read_through_joins_and_subqueries_and_targets_are_changed() {
        assert_eq!(checked("SELECT id FROM posts WHERE id = ?").kind, Op::Select);
        assert_eq!(
            access("SELECT p.id FROM posts p JOIN posts_tags pt ON pt.post_id = p.id WHERE pt.tag_id IN (SELECT id FROM tags WHERE slug = ?)"),
            vec![("posts".into(), vec!["select"]), ("posts_tags".into(), vec!["select"]), ("tags".into(), vec!["select"])]
        );
        assert_eq!(
            access("DELETE FROM `ghost`.`posts_meta` WHERE post_id IN (?, ?)"),
            vec![("posts_meta".into(), vec!["delete"])]
        );
        assert_eq!(
            access("DELETE FROM comment_likes WHERE comment_id IN (SELECT id FROM comments WHERE post_id IN (?))"),
            vec![("comment_likes".into(), vec!["delete"]), ("comments".into(), vec!["select"])]
        );
        assert_eq!(access("UPDATE users SET name = ? WHERE id = ?"), vec![("users".into(), vec!["update"])]);
        assert_eq!(
            access("INSERT INTO tags (id, slug) VALUES (?, ?) ON DUPLICATE KEY UPDATE slug = ?"),
            vec![("tags".into(), vec!["insert", "update"])]
        );
        assert_eq!(
            access("REPLACE INTO tags (id, slug) VALUES (?, ?)"),
            vec![("tags".into(), vec!["insert", "delete"])]
        );
        // Multi-table forms: every table is named, each with what happens to it.
        assert_eq!(
            access("DELETE s FROM posts p JOIN settings s ON s.id = p.id WHERE p.id = ?"),
            vec![("posts".into(), vec!["select"]), ("settings".into(), vec!["delete"])]
        );
        assert_eq!(
            access("DELETE posts, posts_tags FROM posts JOIN posts_tags ON posts_tags.post_id = posts.id WHERE posts.id = ?"),
            vec![("posts".into(), vec!["delete"]), ("posts_tags".into(), vec!["delete"])]
        );
        assert_eq!(
            access("UPDATE posts p JOIN users u ON u.id = p.author_id SET p.title = ? WHERE u.id = ?"),
            vec![("posts".into(), vec!["update"]), ("users".into(), vec!["update"])]
        );
    }

    #[test]
    fn what_is_sent_is_what_was_parsed_without_comments() {
        assert_eq!(
            checked("SELECT id /* the key */ FROM posts -- trailing\n WHERE id = ? # and this").text,
            "SELECT id FROM posts WHERE id = ?"
        );
        assert_eq!(
            checked("SELECT p.id FROM posts p WHERE p.created_at < DATE_SUB(UTC_TIMESTAMP(), INTERVAL ? DAY) ORDER BY p.id LIMIT ?").text,
            "SELECT p.id FROM posts AS p WHERE p.created_at < DATE_SUB(UTC_TIMESTAMP(), INTERVAL ? DAY) ORDER BY p.id LIMIT ?"
        );
        // MySQL needs a space after `--`: `--1` is minus minus one, and what is sent says so.
        assert_eq!(checked("SELECT id FROM posts WHERE 1 = 1 --1").text, "SELECT id FROM posts WHERE 1 = 1 - -1");
    }

    #[test]
    fn what_is_not_plain_dml_is_refused() {
        for sql in [
            "DROP TABLE posts",
            "TRUNCATE posts",
            "SELECT 1; DROP TABLE posts",
            "SET FOREIGN_KEY_CHECKS = 0",
            "GRANT ALL ON *.* TO x",
            "SELECT * FROM posts WHERE slug = 'x'",
            "DELETE FROM posts WHERE title = \"x\"",
            "not sql at all",
        ] {
            refused(sql);
        }
    }

    #[test]
    fn what_the_server_would_run_beyond_the_parser_is_refused() {
        let hidden = [
            "SELECT id FROM posts WHERE id = ? /*!50000 UNION SELECT password FROM users */",
            "SELECT id FROM posts /*M!100100 UNION SELECT password FROM users */",
            "SELECT /*+ MAX_EXECUTION_TIME(100000) */ id FROM posts",
            "DELETE FROM posts_tags WHERE post_id = ? /*!, settings USING settings */",
            "SELECT id FROM posts WHERE id = ? /*m!100000 OR 1=1 */",
        ];
        for sql in hidden {
            assert!(refused(sql).contains("comment") || refused(sql).contains("hint"), "{sql}: {}", refused(sql));
        }
        assert!(refused("SELECT SLEEP(12)").contains("SLEEP"));
        assert!(refused("SELECT id FROM posts WHERE BENCHMARK(100000000, MD5(id))").contains("BENCHMARK"));
        assert!(refused("SELECT LOAD_FILE(?)").contains("LOAD_FILE"));
        assert!(refused("SELECT GET_LOCK(?, ?)").contains("GET_LOCK"));
        assert!(refused("SELECT ghost.my_udf(id) FROM posts").contains("my_udf"));
        assert!(refused("SELECT id INTO @x FROM posts").contains("INTO"));
        assert!(refused("SELECT id FROM posts INTO OUTFILE ?").contains("parse"));
        assert!(refused("SELECT @@datadir").contains("variable"));
        assert!(refused("SELECT id FROM posts WHERE id = @x").contains("variable"));
        assert!(refused("DELETE FROM ghost_staging.posts_tags WHERE post_id = ?").contains("outside"));
        assert!(refused("SELECT user FROM mysql.user").contains("outside"));
        assert!(refused("SELECT id FROM information_schema.tables").contains("outside"));
        assert!(refused("WITH x AS (SELECT id FROM posts) DELETE FROM posts_tags WHERE post_id IN (SELECT id FROM x)")
            .contains("changes data"));
        // The connection's own database may be written out.
        assert_eq!(access("SELECT id FROM GHOST.posts"), vec![("posts".into(), vec!["select"])]);
    }

    #[test]
    fn grants_bound_each_tables_operations() {
        let g =
            grant(&[("posts", &["select", "delete"]), ("posts_tags", &["select", "delete"]), ("users", &["select"])]);
        assert!(allowed(&checked("DELETE FROM posts_tags WHERE post_id = ?"), &g).is_ok());
        assert!(allowed(&checked("SELECT p.id FROM posts p JOIN users u ON u.id = ?"), &g).is_ok());
        let update = allowed(&checked("UPDATE posts SET title = ? WHERE id = ?"), &g);
        assert!(update.is_err_and(|r| r.reason.contains("UPDATE on posts")));
        let users = allowed(&checked("DELETE FROM users WHERE id = ?"), &g);
        assert!(users.is_err_and(|r| r.reason.contains("DELETE on users")));
        let other = allowed(&checked("DELETE FROM settings WHERE id = ?"), &g);
        assert!(other.is_err_and(|r| r.reason.contains("settings not granted")));
        let multi = allowed(&checked("DELETE posts, settings FROM posts JOIN settings ON settings.id = posts.id"), &g);
        assert!(multi.is_err_and(|r| r.reason.contains("settings")));
    }
}
