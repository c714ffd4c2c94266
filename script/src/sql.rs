//! What a SQL statement does, read by a SQL parser before it reaches the
//! server: its kind and every table it names (joins and subqueries included).
//! One statement per call; values go through `?` parameters, so a quoted
//! string literal in the text is refused (that is where string-built SQL,
//! and injection, would show).

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use sqlparser::ast::{visit_expressions, visit_relations, Expr, Statement, Value};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::Parser;

/// A statement's kind, as grants name them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `SELECT` (any query).
    Select,
    /// `INSERT`
    Insert,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
}

impl Kind {
    /// The word grants use.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Select => "select",
            Kind::Insert => "insert",
            Kind::Update => "update",
            Kind::Delete => "delete",
        }
    }
}

/// A statement read by the parser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    /// What it does.
    pub kind: Kind,
    /// Every table it names, lower case, without schema or quotes.
    pub tables: BTreeSet<String>,
}

/// Why a statement is refused before it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong.
    pub reason: String,
    /// The fix.
    pub help: String,
}

/// Reads `sql`: exactly one DML statement without string literals.
pub fn classify(sql: &str) -> Result<Classified, Refusal> {
    let statements = Parser::parse_sql(&MySqlDialect {}, sql).map_err(|e| Refusal {
        reason: format!("it does not parse as MySQL: {e}"),
        help: "write one SELECT, INSERT, UPDATE or DELETE statement".into(),
    })?;
    let [statement] = statements.as_slice() else {
        return Err(Refusal {
            reason: format!("{} statements in one call", statements.len()),
            help: "send one statement per call; group them with `begin()` and `commit()`".into(),
        });
    };
    let kind = match statement {
        Statement::Query(_) => Kind::Select,
        Statement::Insert(_) => Kind::Insert,
        Statement::Update { .. } => Kind::Update,
        Statement::Delete(_) => Kind::Delete,
        other => {
            let text = other.to_string();
            let word: String = text.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
            return Err(Refusal {
                reason: format!("`{word}` is not a statement a script may run"),
                help: "scripts run SELECT, INSERT, UPDATE and DELETE, as their grant allows; schema changes, \
                       session settings and transactions (use `begin()`/`commit()`) are drone's"
                    .into(),
            });
        }
    };
    let mut literal = None;
    let _ = visit_expressions(statement, |e: &Expr| {
        if let Expr::Value(v) = e {
            if let Value::SingleQuotedString(s)
            | Value::DoubleQuotedString(s)
            | Value::NationalStringLiteral(s)
            | Value::HexStringLiteral(s)
            | Value::TripleSingleQuotedString(s)
            | Value::TripleDoubleQuotedString(s) = &v.value
            {
                literal = Some(s.clone());
                return ControlFlow::Break(());
            }
        }
        ControlFlow::Continue(())
    });
    if let Some(text) = literal {
        return Err(Refusal {
            reason: format!("the string literal '{text}' is written into the statement"),
            help: "pass values as `?` parameters: `db.query(\"... WHERE slug = ?\", [slug])`".into(),
        });
    }
    let mut tables = BTreeSet::new();
    let _ = visit_relations(statement, |name| {
        let text = name.to_string();
        let last = text.rsplit('.').next().unwrap_or(&text);
        tables.insert(last.trim_matches(|c| c == '`' || c == '"').to_ascii_lowercase());
        ControlFlow::<()>::Continue(())
    });
    Ok(Classified { kind, tables })
}

/// Checks `statement` against a grant's statement kinds and tables.
pub fn allowed(statement: &Classified, ops: &[String], tables: &[String]) -> Result<(), Refusal> {
    if !ops.iter().any(|o| o == statement.kind.word()) {
        return Err(Refusal {
            reason: format!("the grant does not allow {}", statement.kind.word().to_uppercase()),
            help: format!("it allows {}", ops.join(", ")),
        });
    }
    let outside: Vec<&str> =
        statement.tables.iter().filter(|t| !tables.iter().any(|g| g == *t)).map(String::as_str).collect();
    if !outside.is_empty() {
        return Err(Refusal {
            reason: format!("table{} {} not granted", if outside.len() == 1 { "" } else { "s" }, outside.join(", ")),
            help: format!("the grant names {}", tables.join(", ")),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(sql: &str) -> Vec<String> {
        classify(sql).map(|c| c.tables.into_iter().collect()).unwrap_or_default()
    }

    #[test]
    fn kinds_and_tables_are_read_through_joins_and_subqueries() {
        assert_eq!(classify("SELECT id FROM posts WHERE id = ?").map(|c| c.kind), Ok(Kind::Select));
        assert_eq!(
            tables("SELECT p.id FROM posts p JOIN posts_tags pt ON pt.post_id = p.id WHERE pt.tag_id IN (SELECT id FROM tags WHERE slug = ?)"),
            vec!["posts", "posts_tags", "tags"]
        );
        assert_eq!(tables("DELETE FROM `ghost`.`posts_meta` WHERE post_id IN (?, ?)"), vec!["posts_meta"]);
        assert_eq!(classify("UPDATE users SET name = ? WHERE id = ?").map(|c| c.kind), Ok(Kind::Update));
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
            assert!(classify(sql).is_err(), "{sql} was accepted");
        }
    }

    #[test]
    fn grants_bound_kinds_and_tables() {
        let ops = vec!["select".to_string(), "delete".to_string()];
        let granted = vec!["posts".to_string(), "posts_tags".to_string()];
        let ok = classify("DELETE FROM posts_tags WHERE post_id = ?").unwrap_or_else(|r| panic!("{r:?}"));
        assert!(allowed(&ok, &ops, &granted).is_ok());
        let update = classify("UPDATE posts SET title = ? WHERE id = ?").unwrap_or_else(|r| panic!("{r:?}"));
        assert!(allowed(&update, &ops, &granted).is_err());
        let other = classify("DELETE FROM users WHERE id = ?").unwrap_or_else(|r| panic!("{r:?}"));
        assert!(allowed(&other, &ops, &granted).is_err_and(|r| r.reason.contains("users")));
    }
}
