//! Migration parity: the SQLite and PostgreSQL migration sets must produce the same logical schema.
//!
//! Both sets are applied (by opening a store on each backend), then each database's catalog is reduced to a
//! neutral description — tables, columns with a type family and nullability, primary keys, foreign keys and
//! explicitly created indexes — and the two descriptions must be equal.

mod common;

use std::collections::BTreeMap;

use sqlx::{Connection, Row};
use store::Store;

/// A table as both backends can describe it.
#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// (name, type family, not null) in column order.
    columns: Vec<(String, String, bool)>,
    /// Primary-key columns in key order.
    primary_key: Vec<String>,
    /// (columns, referenced table, referenced columns), sorted.
    foreign_keys: Vec<(Vec<String>, String, Vec<String>)>,
    /// index name → (unique, columns in order).
    indexes: BTreeMap<String, (bool, Vec<String>)>,
}

/// Maps a declared column type to a family both backends share; unknown types stay as they are (and differ).
fn type_family(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "integer" | "bigint" | "int8" => "integer".to_owned(),
        "text" => "text".to_owned(),
        "boolean" | "bool" => "boolean".to_owned(),
        other => other.to_owned(),
    }
}

async fn sqlite_schema(url: &str) -> BTreeMap<String, Table> {
    let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx_%' ORDER BY name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut schema = BTreeMap::new();
    for name in tables {
        let mut table = Table::default();
        let columns = sqlx::query("SELECT name, type, \"notnull\", pk FROM pragma_table_info($1) ORDER BY cid")
            .bind(&name)
            .fetch_all(&mut db)
            .await
            .unwrap();
        let mut primary_key = Vec::new();
        for column in &columns {
            let column_name: String = column.get("name");
            let pk: i64 = column.get("pk");
            let not_null: i64 = column.get("notnull");
            if pk > 0 {
                primary_key.push((pk, column_name.clone()));
            }
            // Primary-key columns can never be null (PostgreSQL enforces it; SQLite for INTEGER PRIMARY KEY).
            table.columns.push((column_name, type_family(column.get("type")), not_null == 1 || pk > 0));
        }
        primary_key.sort();
        table.primary_key = primary_key.into_iter().map(|(_, column)| column).collect();

        let foreign_keys = sqlx::query(
            "SELECT id, seq, \"table\", \"from\", \"to\" FROM pragma_foreign_key_list($1) ORDER BY id, seq",
        )
        .bind(&name)
        .fetch_all(&mut db)
        .await
        .unwrap();
        let mut by_id: BTreeMap<i64, (Vec<String>, String, Vec<String>)> = BTreeMap::new();
        for key in foreign_keys {
            let entry = by_id.entry(key.get("id")).or_insert_with(|| (Vec::new(), key.get("table"), Vec::new()));
            entry.0.push(key.get("from"));
            entry.2.push(key.get("to"));
        }
        table.foreign_keys = by_id.into_values().collect();
        table.foreign_keys.sort();

        let indexes = sqlx::query("SELECT name, \"unique\", origin FROM pragma_index_list($1)")
            .bind(&name)
            .fetch_all(&mut db)
            .await
            .unwrap();
        for index in indexes {
            let origin: String = index.get("origin");
            if origin != "c" {
                continue; // the primary key's and UNIQUE constraints' automatic indexes
            }
            let index_name: String = index.get("name");
            let unique: i64 = index.get("unique");
            let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                .bind(&index_name)
                .fetch_all(&mut db)
                .await
                .unwrap();
            table.indexes.insert(index_name, (unique == 1, columns));
        }
        schema.insert(name, table);
    }
    db.close().await.unwrap();
    schema
}

async fn postgres_schema(url: &str) -> BTreeMap<String, Table> {
    let mut db = sqlx::PgConnection::connect(url).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' \
         AND table_type = 'BASE TABLE' AND table_name NOT LIKE '\\_sqlx\\_%' ORDER BY table_name",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    let mut schema = BTreeMap::new();
    for name in tables {
        let mut table = Table::default();
        let columns = sqlx::query(
            "SELECT column_name::text AS name, data_type::text AS type, is_nullable::text AS nullable \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 \
             ORDER BY ordinal_position",
        )
        .bind(&name)
        .fetch_all(&mut db)
        .await
        .unwrap();
        for column in columns {
            let nullable: String = column.get("nullable");
            table.columns.push((column.get("name"), type_family(column.get("type")), nullable == "NO"));
        }
        // Every constraint's columns in key order, and the referenced columns for foreign keys.
        let constraints = sqlx::query(
            "SELECT c.conname::text AS name, c.contype::text AS kind, \
                    ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) \
                        AS columns, \
                    COALESCE(f.relname::text, '') AS referenced, \
                    ARRAY(SELECT a.attname::text FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord) \
                        AS referenced_columns \
             FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace LEFT JOIN pg_class f ON f.oid = c.confrelid \
             WHERE n.nspname = 'public' AND t.relname = $1 AND c.contype IN ('p', 'f')",
        )
        .bind(&name)
        .fetch_all(&mut db)
        .await
        .unwrap();
        for constraint in constraints {
            let kind: String = constraint.get("kind");
            let columns: Vec<String> = constraint.get("columns");
            if kind == "p" {
                table.primary_key = columns;
            } else {
                table.foreign_keys.push((columns, constraint.get("referenced"), constraint.get("referenced_columns")));
            }
        }
        table.foreign_keys.sort();
        // Indexes not backing a constraint (those are the explicitly created ones).
        let indexes = sqlx::query(
            "SELECT i.relname::text AS name, ix.indisunique AS is_unique, \
                    ARRAY(SELECT a.attname::text FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, ord) \
                          JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum ORDER BY k.ord) \
                        AS columns \
             FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             WHERE n.nspname = 'public' AND t.relname = $1 \
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)",
        )
        .bind(&name)
        .fetch_all(&mut db)
        .await
        .unwrap();
        for index in indexes {
            table.indexes.insert(index.get("name"), (index.get("is_unique"), index.get("columns")));
        }
        schema.insert(name, table);
    }
    db.close().await.unwrap();
    schema
}

#[tokio::test]
async fn sqlite_and_postgres_migrations_define_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("parity.db").display());
    Store::open(&sqlite_url).await.unwrap().close().await;
    let sqlite = sqlite_schema(&sqlite_url).await;

    // Guard against a dump that sees nothing (which would compare equal too).
    let names: Vec<&str> = sqlite.keys().map(String::as_str).collect();
    let expected = ["audit_entries", "observation_states", "observations", "policy_revisions", "runs", "steps"];
    let connection_tables = ["connection_certificates", "connection_secrets", "connections", "oauth_states"];
    for table in expected.into_iter().chain(connection_tables) {
        assert!(names.contains(&table), "table {table} is missing: {names:?}");
    }
    assert_eq!(sqlite["connections"].indexes["connections_by_name"], (true, vec!["name".to_owned()]));
    assert_eq!(sqlite["connection_secrets"].primary_key, ["connection_id", "purpose"]);
    assert!(names.contains(&"admin_accounts") && names.contains(&"admin_sessions"), "{names:?}");
    assert_eq!(
        sqlite["admin_sessions"].foreign_keys,
        [(vec!["account_id".to_owned()], "admin_accounts".to_owned(), vec!["id".to_owned()])]
    );
    assert_eq!(sqlite["steps"].primary_key, ["run_id", "step_id"]);
    assert_eq!(sqlite["audit_entries"].indexes.len(), 2, "{:#?}", sqlite["audit_entries"]);
    assert_eq!(sqlite["audit_entries"].foreign_keys.len(), 1);

    let Some(database) = common::PostgresDatabase::create().await else {
        return;
    };
    let url = database.url.clone();
    let postgres = async move {
        let store = Store::open(&url).await.unwrap();
        store.close().await;
        postgres_schema(&url).await
    };
    let postgres = tokio::spawn(postgres).await;
    database.drop().await;
    let postgres = postgres.unwrap_or_else(|error| std::panic::resume_unwind(error.into_panic()));
    assert_eq!(sqlite, postgres);
}
