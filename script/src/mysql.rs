//! The `mysql` host functions: `mysql::connect(cluster)` gives a handle whose
//! `query` and `execute` send one statement each, with `?` parameters bound
//! by the server (prepared statements), after the SQL parser has read its
//! kind and tables and the grant has allowed both; `begin`, `commit` and
//! `rollback` bound transactions, and a transaction left open when the
//! script ends or fails is rolled back.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use mysql::prelude::Queryable;
use rhai::{Dynamic, Engine, EvalAltResult, Module, NativeCallContext, Position};

use crate::host::Context;
use crate::sql;
use crate::ScriptError;

/// A connection a script holds.
#[derive(Clone)]
pub struct Db(Rc<DbState>);

struct DbState {
    conn: RefCell<mysql::Conn>,
    target: String,
    tables: Vec<String>,
    ops: Vec<String>,
    in_transaction: Cell<bool>,
    context: Rc<Context>,
}

impl Drop for DbState {
    fn drop(&mut self) {
        if self.in_transaction.get() {
            let _ = self.conn.get_mut().query_drop("ROLLBACK");
        }
    }
}

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

impl Db {
    fn database_error(&self, error: mysql::Error, pos: Position) -> Box<EvalAltResult> {
        let c = &self.0.context;
        c.fail(ScriptError::Database {
            target: self.0.target.clone(),
            reason: error.to_string(),
            span: c.source.span(pos),
        })
    }

    /// Classifies and checks `sql` against the grant.
    fn admit(&self, sql_text: &str, pos: Position) -> Result<()> {
        let c = &self.0.context;
        let refuse = |r: sql::Refusal| {
            c.fail(ScriptError::SqlRefused { reason: r.reason, span: c.source.span(pos), help: Some(r.help) })
        };
        let statement = sql::classify(sql_text).map_err(refuse)?;
        sql::allowed(&statement, &self.0.ops, &self.0.tables).map_err(refuse)?;
        c.statements.set(c.statements.get() + 1);
        Ok(())
    }

    fn query(&self, sql_text: &str, params: rhai::Array, pos: Position) -> Result<rhai::Array> {
        self.admit(sql_text, pos)?;
        let params = parameters(&params);
        let rows: Vec<mysql::Row> =
            self.0.conn.borrow_mut().exec(sql_text, params).map_err(|e| self.database_error(e, pos))?;
        Ok(rows.into_iter().map(|row| Dynamic::from_map(row_map(row))).collect())
    }

    fn execute(&self, sql_text: &str, params: rhai::Array, pos: Position) -> Result<i64> {
        self.admit(sql_text, pos)?;
        let params = parameters(&params);
        let mut conn = self.0.conn.borrow_mut();
        conn.exec_drop(sql_text, params).map_err(|e| self.database_error(e, pos))?;
        Ok(conn.affected_rows() as i64)
    }

    fn transaction(&self, statement: &str, open: bool, pos: Position) -> Result<()> {
        let c = &self.0.context;
        if self.0.in_transaction.get() == open {
            let reason = if open { "a transaction is already open" } else { "no transaction is open" };
            return Err(c.fail(ScriptError::Failed { message: reason.into(), span: c.source.span(pos) }));
        }
        self.0.conn.borrow_mut().query_drop(statement).map_err(|e| self.database_error(e, pos))?;
        self.0.in_transaction.set(open);
        Ok(())
    }
}

/// Registers `mysql::connect` and the handle's methods.
pub fn register(engine: &mut Engine, context: Rc<Context>) {
    engine.register_type_with_name::<Db>("db");
    let mut module = Module::new();
    let c = context.clone();
    module.set_native_fn("connect", move |call: NativeCallContext, address: &str| -> Result<Db> {
        let pos = call.call_position();
        c.permit("mysql::connect", address, pos)?;
        let (tables, ops) =
            c.grants.find("mysql", address).map(|g| (g.tables.clone(), g.ops.clone())).unwrap_or_default();
        let target = c.host.database(address).map_err(|reason| {
            c.fail(ScriptError::Database { target: address.into(), reason, span: c.source.span(pos) })
        })?;
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(target.host.clone()))
            .tcp_port(target.port)
            .user(Some(target.user.clone()))
            .pass(Some(target.password.clone()))
            .db_name(Some(target.database.clone()))
            .tcp_connect_timeout(Some(Duration::from_secs(10)))
            .read_timeout(Some(Duration::from_secs(120)))
            .write_timeout(Some(Duration::from_secs(120)));
        let conn = mysql::Conn::new(opts).map_err(|e| {
            c.fail(ScriptError::Database { target: address.into(), reason: e.to_string(), span: c.source.span(pos) })
        })?;
        Ok(Db(Rc::new(DbState {
            conn: RefCell::new(conn),
            target: address.into(),
            tables,
            ops,
            in_transaction: Cell::new(false),
            context: c.clone(),
        })))
    });
    engine.register_static_module("mysql", module.into());
    engine.register_fn("query", |call: NativeCallContext, db: &mut Db, sql_text: &str, params: rhai::Array| {
        db.query(sql_text, params, call.call_position())
    });
    engine.register_fn("query", |call: NativeCallContext, db: &mut Db, sql_text: &str| {
        db.query(sql_text, rhai::Array::new(), call.call_position())
    });
    engine.register_fn("execute", |call: NativeCallContext, db: &mut Db, sql_text: &str, params: rhai::Array| {
        db.execute(sql_text, params, call.call_position())
    });
    engine.register_fn("execute", |call: NativeCallContext, db: &mut Db, sql_text: &str| {
        db.execute(sql_text, rhai::Array::new(), call.call_position())
    });
    engine.register_fn("begin", |call: NativeCallContext, db: &mut Db| {
        db.transaction("START TRANSACTION", true, call.call_position())
    });
    engine.register_fn("commit", |call: NativeCallContext, db: &mut Db| {
        db.transaction("COMMIT", false, call.call_position())
    });
    engine.register_fn("rollback", |call: NativeCallContext, db: &mut Db| {
        db.transaction("ROLLBACK", false, call.call_position())
    });
}

fn parameters(params: &rhai::Array) -> mysql::Params {
    if params.is_empty() {
        return mysql::Params::Empty;
    }
    mysql::Params::Positional(
        params
            .iter()
            .map(|p| {
                if p.is_unit() {
                    mysql::Value::NULL
                } else if let Ok(b) = p.as_bool() {
                    mysql::Value::Int(b.into())
                } else if let Ok(i) = p.as_int() {
                    mysql::Value::Int(i)
                } else if let Ok(f) = p.as_float() {
                    mysql::Value::Double(f)
                } else {
                    mysql::Value::Bytes(p.to_string().into_bytes())
                }
            })
            .collect(),
    )
}

fn row_map(row: mysql::Row) -> rhai::Map {
    let columns = row.columns();
    let values = row.unwrap();
    columns
        .iter()
        .zip(values)
        .map(|(column, value)| {
            let v: Dynamic = match value {
                mysql::Value::NULL => Dynamic::UNIT,
                mysql::Value::Bytes(b) => String::from_utf8_lossy(&b).into_owned().into(),
                mysql::Value::Int(i) => i.into(),
                mysql::Value::UInt(u) => (u as i64).into(),
                mysql::Value::Float(f) => (f as f64).into(),
                mysql::Value::Double(f) => f.into(),
                mysql::Value::Date(y, m, d, h, mi, s, _) => {
                    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02}:{s:02}").into()
                }
                mysql::Value::Time(neg, days, h, mi, s, _) => {
                    format!("{}{}:{mi:02}:{s:02}", if neg { "-" } else { "" }, days * 24 + u32::from(h)).into()
                }
            };
            (column.name_str().to_string().into(), v)
        })
        .collect()
}
