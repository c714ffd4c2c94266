//! The `mysql` host functions: `mysql::connect(cluster)` gives a handle whose
//! `query` and `execute` send one statement each, with `?` parameters bound
//! by the server (prepared statements), after the SQL parser has read its
//! kind and tables and the grant has allowed both; `begin`, `commit` and
//! `rollback` bound transactions, and a transaction left open when the
//! script ends or fails is rolled back.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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
    database: String,
    /// Each granted table with the operations allowed on it.
    tables: BTreeMap<String, Vec<String>>,
    in_transaction: Cell<bool>,
    server: Server,
    /// The server's own statement timeout, as last set (see [`Db::bound`]).
    server_limit: Cell<Duration>,
    watchdog: Watchdog,
    context: Rc<Context>,
}

impl Drop for DbState {
    fn drop(&mut self) {
        if self.in_transaction.get() {
            let _ = self.conn.get_mut().query_drop("ROLLBACK");
        }
    }
}

/// Which server the connection reached: they bound a statement's time differently.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    /// `max_statement_time` (seconds) bounds every statement.
    MariaDb,
    /// MySQL and Aurora MySQL: `max_execution_time` (milliseconds) bounds SELECTs only.
    MySql,
}

impl Server {
    /// The statement that bounds the next statements to `remaining`.
    fn bound(self, remaining: Duration) -> String {
        match self {
            Server::MariaDb => format!("SET SESSION max_statement_time = {:.3}", remaining.as_secs_f64().max(0.001)),
            Server::MySql => format!("SET SESSION max_execution_time = {}", remaining.as_millis().max(1)),
        }
    }
}

/// Stops what a connection runs when the script's time is up, whatever the
/// statement (a lock wait, an INSERT or DELETE, which MySQL's own timeout does
/// not cover): at the deadline, while a statement is in flight, a second
/// connection sends `KILL QUERY` for it.
struct Watchdog {
    in_flight: Arc<AtomicBool>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    fn start(opts: mysql::Opts, connection: u32, deadline: Instant) -> Watchdog {
        let (stop, stopped) = mpsc::channel::<()>();
        let in_flight = Arc::new(AtomicBool::new(false));
        let running = in_flight.clone();
        let thread = std::thread::spawn(move || {
            let closed = |wait: Duration| stopped.recv_timeout(wait) != Err(mpsc::RecvTimeoutError::Timeout);
            if closed(deadline.saturating_duration_since(Instant::now())) {
                return;
            }
            let mut killer: Option<mysql::Conn> = None;
            loop {
                if running.load(Ordering::SeqCst) {
                    if killer.is_none() {
                        killer = mysql::Conn::new(opts.clone()).ok();
                    }
                    if let Some(k) = killer.as_mut() {
                        let _ = k.query_drop(format!("KILL QUERY {connection}"));
                    }
                }
                if closed(Duration::from_millis(200)) {
                    return;
                }
            }
        });
        Watchdog { in_flight, stop: Some(stop), thread: Some(thread) }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

type Result<T> = std::result::Result<T, Box<EvalAltResult>>;

impl Db {
    /// The error for a statement that failed: past the deadline, the time
    /// limit; a server's refusal, with what it means; anything else, the connection.
    fn statement_error(&self, error: mysql::Error, pos: Position) -> Box<EvalAltResult> {
        let c = &self.0.context;
        if Instant::now() >= c.deadline {
            return c.out_of_time(pos);
        }
        let span = c.source.span(pos);
        match &error {
            mysql::Error::MySqlError(server) => c.fail(ScriptError::Statement {
                target: self.0.target.clone(),
                reason: error.to_string(),
                span,
                help: Some(server_help(server.code).into()),
            }),
            _ => c.fail(ScriptError::Database { target: self.0.target.clone(), reason: error.to_string(), span }),
        }
    }

    /// Checks `sql_text` against the gate and the grant; the text to send.
    fn admit(&self, sql_text: &str, pos: Position) -> Result<String> {
        let c = &self.0.context;
        let refuse = |r: sql::Refusal| {
            c.fail(ScriptError::SqlRefused { reason: r.reason, span: c.source.span(pos), help: Some(r.help) })
        };
        let statement = sql::check(sql_text, &self.0.database).map_err(refuse)?;
        sql::allowed(&statement, &self.0.tables).map_err(refuse)?;
        self.bound(pos)?;
        c.statements.set(c.statements.get() + 1);
        Ok(statement.text)
    }

    /// Keeps the server's own statement timeout within the script's remaining
    /// time (to the second: it is set again once it would overrun by more), so a
    /// statement stops at the deadline even if drone itself is gone.
    fn bound(&self, pos: Position) -> Result<()> {
        let c = &self.0.context;
        let now = Instant::now();
        let remaining = c.deadline.saturating_duration_since(now);
        if remaining.is_zero() {
            return Err(c.out_of_time(pos));
        }
        if now + self.0.server_limit.get() > c.deadline + Duration::from_secs(1) {
            let set = self.0.server.bound(remaining);
            self.0.conn.borrow_mut().query_drop(set).map_err(|e| self.statement_error(e, pos))?;
            self.0.server_limit.set(remaining);
        }
        Ok(())
    }

    /// Runs `work` on the connection with the watchdog told a statement is in flight.
    fn send<T>(&self, pos: Position, work: impl FnOnce(&mut mysql::Conn) -> mysql::Result<T>) -> Result<T> {
        let flag = &self.0.watchdog.in_flight;
        flag.store(true, Ordering::SeqCst);
        let result = work(&mut self.0.conn.borrow_mut());
        flag.store(false, Ordering::SeqCst);
        let value = result.map_err(|e| self.statement_error(e, pos))?;
        // A killed SLEEP-like wait answers normally: past the deadline, the answer does not count.
        if Instant::now() >= self.0.context.deadline {
            return Err(self.0.context.out_of_time(pos));
        }
        Ok(value)
    }

    fn query(&self, sql_text: &str, params: rhai::Array, pos: Position) -> Result<rhai::Array> {
        let text = self.admit(sql_text, pos)?;
        let params = parameters(&params);
        let rows: Vec<mysql::Row> = self.send(pos, |conn| conn.exec(text, params))?;
        Ok(rows.into_iter().map(|row| Dynamic::from_map(row_map(row))).collect())
    }

    fn execute(&self, sql_text: &str, params: rhai::Array, pos: Position) -> Result<i64> {
        let text = self.admit(sql_text, pos)?;
        let params = parameters(&params);
        self.send(pos, |conn| conn.exec_drop(text, params).map(|()| conn.affected_rows() as i64))
    }

    fn transaction(&self, statement: &str, open: bool, pos: Position) -> Result<()> {
        let c = &self.0.context;
        if self.0.in_transaction.get() == open {
            let reason = if open { "a transaction is already open" } else { "no transaction is open" };
            return Err(c.fail(ScriptError::Failed { message: reason.into(), span: c.source.span(pos) }));
        }
        self.send(pos, |conn| conn.query_drop(statement))?;
        self.0.in_transaction.set(open);
        Ok(())
    }
}

/// What a server error means for the script that met it.
fn server_help(code: u16) -> &'static str {
    match code {
        1451 => {
            "a foreign key refused the deletion: rows in another table still refer to these rows; delete \
                 (or unlink) the referring rows first, in the same transaction, which was rolled back"
        }
        1452 => {
            "a foreign key refused the change: it would leave a row referring to one that does not exist \
                 (a self-referencing table deleted in one statement does this: clear the links, then delete \
                 children before parents); the transaction was rolled back"
        }
        1205 => {
            "another session holds a lock on these rows; the transaction was rolled back: run the task \
                 again once the other session is done"
        }
        1213 => "the server chose this transaction as a deadlock's victim and rolled it back: run the task again",
        1644 => "a trigger or procedure refused the change (SIGNAL); the transaction was rolled back",
        1062 => "a row with this key already exists; the transaction was rolled back",
        _ => "the server refused the statement; the transaction it was part of was rolled back",
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
        let tables = c.grants.find("mysql", address).map(|g| g.tables.clone()).unwrap_or_default();
        let target = c.host.database(address).map_err(|reason| {
            c.fail(ScriptError::Database { target: address.into(), reason, span: c.source.span(pos) })
        })?;
        let remaining = c.deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(c.out_of_time(pos));
        }
        // The last resort, should the server and the watchdog both fail to stop a statement.
        let io_timeout = Some(remaining + Duration::from_secs(30));
        let opts: mysql::Opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(target.host.clone()))
            .tcp_port(target.port)
            .user(Some(target.user.clone()))
            .pass(Some(target.password.clone()))
            .db_name(Some(target.database.clone()))
            .tcp_connect_timeout(Some(Duration::from_secs(10).min(remaining)))
            .read_timeout(io_timeout)
            .write_timeout(io_timeout)
            .into();
        let failed = |e: mysql::Error| {
            c.fail(ScriptError::Database { target: address.into(), reason: e.to_string(), span: c.source.span(pos) })
        };
        let mut conn = mysql::Conn::new(opts.clone()).map_err(failed)?;
        let version: Option<String> = conn.query_first("SELECT VERSION()").map_err(failed)?;
        let server = if version.unwrap_or_default().contains("MariaDB") { Server::MariaDb } else { Server::MySql };
        conn.query_drop(server.bound(remaining)).map_err(failed)?;
        let watchdog = Watchdog::start(opts, conn.connection_id(), c.deadline);
        Ok(Db(Rc::new(DbState {
            conn: RefCell::new(conn),
            target: address.into(),
            database: target.database.clone(),
            tables,
            in_transaction: Cell::new(false),
            server,
            server_limit: Cell::new(remaining),
            watchdog,
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
