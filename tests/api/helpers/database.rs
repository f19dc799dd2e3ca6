//! The per-test databases: a migrated template (built once per server and
//! migration set) and a [`TestDatabase`] cloned from it, dropped with the
//! test (even on panic).

use std::time::Duration;

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use tokio::sync::OnceCell;
use user_service::db;

/// The server the per-test databases live on (any database on it).
pub fn server_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn database_url(name: &str) -> String {
    let mut url = url::Url::parse(&server_url()).expect("TEST_DATABASE_URL is a URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// A name that changes whenever the migrations change.
fn template_name() -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    let mut entries: Vec<_> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .expect("migrations directory")
        .map(|entry| entry.expect("entry").path())
        .collect();
    entries.sort();
    for dir in entries {
        for file in ["up.sql", "down.sql"] {
            hasher.update(dir.to_string_lossy().as_bytes());
            hasher.update(std::fs::read(dir.join(file)).unwrap_or_default());
        }
    }
    format!("user_service_tpl_{}", &hex::encode(hasher.finalize())[..16])
}

static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// Creates (once per server and migration set) the migrated template.
async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = template_name();
            let mut conn = AsyncPgConnection::establish(&server_url())
                .await
                .expect("connect to the test PostgreSQL server");
            // Serialise template creation across test processes.
            diesel::sql_query("SELECT pg_advisory_lock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory lock");
            #[derive(diesel::QueryableByName)]
            struct Found {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let found: Found = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM pg_database WHERE datname = '{name}'"
            ))
            .get_result(&mut conn)
            .await
            .expect("look the template up");
            if found.n == 0 {
                let building = format!("{name}_building");
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .expect("drop a half-built template");
                diesel::sql_query(format!("CREATE DATABASE {building}"))
                    .execute(&mut conn)
                    .await
                    .expect("create the template");
                db::run_migrations(&database_url(&building))
                    .await
                    .expect("migrate the template");
                diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("publish the template");
            }
            diesel::sql_query("SELECT pg_advisory_unlock(727274)")
                .execute(&mut conn)
                .await
                .expect("advisory unlock");
            name
        })
        .await
}

/// A database of one test, dropped with it.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        super::init_test_log();
        let template = template().await;
        let name = format!("user_service_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&server_url())
            .await
            .expect("connect to the test PostgreSQL server");
        let mut attempts = 0;
        loop {
            let created = diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}"))
                .execute(&mut conn)
                .await;
            match created {
                Ok(_) => break,
                // Another test is copying the same template right now.
                Err(error)
                    if attempts < 50 && error.to_string().contains("accessed by other users") =>
                {
                    attempts += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => panic!("cannot create test database: {error}"),
            }
        }
        let url = database_url(&name);
        Self { name, url }
    }

    /// An empty database (no migrations), dropped with the test: a legacy
    /// service's database, say.
    #[allow(dead_code)] // used by some test modules only
    pub async fn empty(prefix: &str) -> Self {
        super::init_test_log();
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = AsyncPgConnection::establish(&server_url())
            .await
            .expect("connect to the test PostgreSQL server");
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create an empty database");
        let url = database_url(&name);
        Self { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A fresh runtime on its own thread: Drop may run inside (or outside)
        // the test's runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&server_url()).await?;
                diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .map_err(|error| diesel::ConnectionError::BadConnection(error.to_string()))
                    .map(drop)
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: test database {} was not dropped", self.name);
        }
    }
}
