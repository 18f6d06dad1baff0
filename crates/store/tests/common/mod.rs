//! Test harness: runs one test body against a fresh SQLite file and a fresh PostgreSQL database.
//!
//! Every Postgres test gets its own database (`tenure_test_<pid>_<nanos>_<n>`), created on the server named by
//! `TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`) and dropped afterwards, even when the
//! body panics, so tests run in parallel and repeatedly. An unreachable server fails the test unless
//! `TENURE_SKIP_POSTGRES=1` is set.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::{DateTime, TimeZone, Utc};
use model::{
    Action, AttributeChange, GroupKind, GroupRef, ObjectId, Plan, Step, StepId, UserAttribute, UserRef, WorkerId,
};
use sqlx::Connection;
use store::Store;

/// The store under test and the URL it was opened from (to reopen it, as a restarted process would).
#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    pub url: String,
}

impl TestDb {
    /// Opens the same database again, with a new pool.
    pub async fn reopen(&self) -> Store {
        Store::open(&self.url).await.expect("reopening the store")
    }
}

/// Instantiates each named `async fn name(db: TestDb)` in this file as `sqlite::name` and `postgres::name`.
#[macro_export]
macro_rules! store_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::common::run_sqlite(super::$name).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    $crate::common::run_postgres(super::$name).await;
                }
            )*
        }
    };
}

/// Runs `body` on a store in a new SQLite file in a temporary directory.
pub async fn run_sqlite<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}", dir.path().join("nested-missing-file.db").display());
    let store = Store::open(&url).await.expect("opening a new SQLite store");
    body(TestDb { store: store.clone(), url }).await;
    store.close().await;
}

/// Runs `body` on a store in a new PostgreSQL database, dropped afterwards.
pub async fn run_postgres<F, Fut>(body: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(database) = PostgresDatabase::create().await else {
        return;
    };
    let opened = Store::open(&database.url).await;
    let store = match opened {
        Ok(store) => store,
        Err(error) => {
            database.drop().await;
            panic!("opening a new PostgreSQL store: {error}");
        }
    };
    let outcome = tokio::spawn(body(TestDb { store: store.clone(), url: database.url.clone() })).await;
    store.close().await;
    database.drop().await;
    if let Err(error) = outcome {
        std::panic::resume_unwind(error.into_panic());
    }
}

/// A PostgreSQL database made for one test.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl PostgresDatabase {
    /// Creates a fresh, empty database; `None` when Postgres is unreachable and `TENURE_SKIP_POSTGRES=1`.
    pub async fn create() -> Option<Self> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let admin_url =
            std::env::var("TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let mut admin = match sqlx::PgConnection::connect(&admin_url).await {
            Ok(connection) => connection,
            Err(error) => {
                if std::env::var("TENURE_SKIP_POSTGRES").is_ok_and(|value| value == "1") {
                    eprintln!("skipping a PostgreSQL test: TENURE_SKIP_POSTGRES=1 and {error}");
                    return None;
                }
                panic!(
                    "PostgreSQL is unreachable at TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test): \
                     {error}. Start PostgreSQL, point TEST_POSTGRES_URL at a server where this user may CREATE \
                     DATABASE, or set TENURE_SKIP_POSTGRES=1 to skip the PostgreSQL variants."
                );
            }
        };
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or_default();
        let name = format!("tenure_test_{}_{}_{}", std::process::id(), nanos, COUNTER.fetch_add(1, Ordering::Relaxed));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("creating test database {name}: {error}"));
        let _ = admin.close().await;
        let url = database_url(&admin_url, &name);
        Some(Self { admin_url, name, url })
    }

    /// Drops the database, disconnecting whoever is still connected.
    pub async fn drop(self) {
        let mut admin =
            sqlx::PgConnection::connect(&self.admin_url).await.expect("reconnecting to drop the test database");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|error| panic!("dropping test database {}: {error}", self.name));
        let _ = admin.close().await;
    }
}

/// `admin_url` with its database replaced by `name` (query parameters kept).
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = match admin_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (admin_url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

pub fn worker(id: &str) -> WorkerId {
    WorkerId::new(id).expect("valid employee id")
}

pub fn at(hour: u32, minute: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, hour, minute, 0).unwrap()
}

/// A small plan: create a group, create a user, add them to it, update someone, disable a leaver.
pub fn small_plan() -> Plan {
    let new_hire = worker("E100");
    let attributes =
        [(UserAttribute::DisplayName, "Anna Meyer".to_owned()), (UserAttribute::EmployeeId, "E100".to_owned())]
            .into_iter()
            .collect();
    let steps = vec![
        Step {
            id: StepId(0),
            worker: None,
            action: Action::CreateGroup {
                mail_nickname: "dept-sales".into(),
                display_name: "Department Sales".into(),
                kind: GroupKind::Microsoft365,
            },
            depends_on: vec![],
            reason: "rule \"department\": department = Sales".into(),
        },
        Step {
            id: StepId(1),
            worker: Some(new_hire.clone()),
            action: Action::CreateUser {
                worker: new_hire.clone(),
                user_principal_name: "anna.meyer@contoso.com".into(),
                mail_nickname: "anna.meyer".into(),
                mail: Some("anna.meyer@contoso.com".into()),
                account_enabled: true,
                attributes,
            },
            depends_on: vec![],
            reason: "new hire starting 2026-03-16 (hr.csv:2)".into(),
        },
        Step {
            id: StepId(2),
            worker: Some(new_hire.clone()),
            action: Action::AddMembers {
                group: GroupRef::Planned("dept-sales".into()),
                members: vec![UserRef::Planned(new_hire)],
            },
            depends_on: vec![StepId(0), StepId(1)],
            reason: "rule \"department\": department = Sales".into(),
        },
        Step {
            id: StepId(3),
            worker: Some(worker("E200")),
            action: Action::UpdateUser {
                user: UserRef::Existing(ObjectId("11111111-1111-1111-1111-111111111111".into())),
                changes: vec![AttributeChange {
                    attribute: UserAttribute::JobTitle,
                    from: Some("Clerk".into()),
                    to: Some("Manager".into()),
                }],
            },
            depends_on: vec![],
            reason: "hr.csv:3 changed jobTitle".into(),
        },
        Step {
            id: StepId(4),
            worker: Some(worker("E300")),
            action: Action::DisableAccount {
                user: UserRef::Existing(ObjectId("33333333-3333-3333-3333-333333333333".into())),
            },
            depends_on: vec![],
            reason: "last working day 2026-02-27 passed".into(),
        },
    ];
    Plan { steps, skipped: vec![], diagnostics: vec![], managed_accounts: 40 }
}

/// A plan of `count` disable steps, one per worker `W00000`, `W00001`, …
pub fn bulk_plan(count: u32) -> Plan {
    let steps = (0..count)
        .map(|i| Step {
            id: StepId(i),
            worker: Some(worker(&format!("W{i:05}"))),
            action: Action::DisableAccount {
                user: UserRef::Existing(ObjectId(format!("00000000-0000-0000-0000-{i:012}"))),
            },
            depends_on: vec![],
            reason: format!("last working day 2026-02-27 passed (hr.csv:{})", i + 2),
        })
        .collect();
    Plan { steps, skipped: vec![], diagnostics: vec![], managed_accounts: count as usize }
}
