//! The `user-service` binary: parses the configuration, starts telemetry
//! and runs the subcommand (`serve` by default).

use anyhow::Context as _;
use clap::{Args, CommandFactory, FromArgMatches};
use rand::RngCore;
use tokio_util::sync::CancellationToken;
use user_service::auth::{self, TokenRequest};
use user_service::clients::username_refresh::{UsernameRefreshSettings, UsernameRefresher};
use user_service::config::{Cli, Command};
use user_service::db::{self, Database};
use user_service::events::{ConsumerSettings, EventConsumer};
use user_service::{build_state, graphql, legacy, rest, router, server, system_clock, telemetry};

/// mimalloc rather than the system allocator: a GraphQL answer is built from
/// thousands of small values, and glibc's malloc and free took a third of
/// the instructions of a 50-user read (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is fine; a broken one is worth a word.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("warning: .env not loaded: {error}");
    }
    let matches = Cli::command()
        .subcommand(SeedArgs::augment_args(clap::Command::new("seed")))
        .subcommand(
            ImportLegacyArgs::augment_args(clap::Command::new("import-legacy")).about(
                "Import the users, badges and goals of the old FastAPI user-service's database",
            ),
        )
        .subcommand(
            clap::Command::new("export-openapi")
                .about("Print the OpenAPI document of the legacy REST layer (openapi.json)"),
        )
        .get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    let config = cli.config;
    if let Some(import) = matches.subcommand_matches("import-legacy") {
        let args = ImportLegacyArgs::from_arg_matches(import).unwrap_or_else(|error| error.exit());
        telemetry::init(config.is_production());
        return run_import(&config.database, args).await;
    }
    if matches.subcommand_matches("export-openapi").is_some() {
        print!("{}", rest::docs::openapi_json());
        return Ok(());
    }
    if let Some(seed) = matches.subcommand_matches("seed") {
        let args = SeedArgs::from_arg_matches(seed).unwrap_or_else(|error| error.exit());
        telemetry::init(config.is_production());
        return run_seed(&config.database, args).await;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let tracing = start_tracing(&config)?;
            config.validate()?;
            let database = Database::connect(&config.database)
                .await
                .context("database set-up failed")?;
            let state = build_state(config.clone(), database.clone(), system_clock())?;
            if let Some(shared) = &state.shared {
                shared
                    .ping()
                    .await
                    .context("REDIS_URL: Redis does not answer")?;
            }
            let shutdown = shutdown_token();
            let consumer = config.events.consumer_enabled.then(|| {
                let consumer = EventConsumer::new(
                    ConsumerSettings::from_config(&config),
                    database.pool.clone(),
                    system_clock(),
                )
                .with_status(state.consumer.clone());
                let shutdown = shutdown.clone();
                tokio::spawn(async move { consumer.run(shutdown).await })
            });
            // Users first met while the auth-service was down get their
            // username once it answers again.
            let refresher = UsernameRefresher::new(
                database.pool.clone(),
                state.auth_service.clone(),
                system_clock(),
                UsernameRefreshSettings::default(),
            );
            let refresher = tokio::spawn(refresher.run(shutdown.clone()));
            let served = server::serve(&config, router::router(state)).await;
            // The server has drained (or failed to start): stop the consumer
            // too, letting it finish the message in hand.
            shutdown.cancel();
            if let Some(consumer) = consumer {
                consumer.await.context("event consumer crashed")?;
            }
            refresher.await.context("username refresher crashed")?;
            stop_tracing(tracing).await;
            served?;
        }
        Command::Consume => {
            let tracing = start_tracing(&config)?;
            let database = Database::connect(&config.database)
                .await
                .context("database set-up failed")?;
            let consumer = EventConsumer::new(
                ConsumerSettings::from_config(&config),
                database.pool,
                system_clock(),
            );
            consumer.run(shutdown_token()).await;
            stop_tracing(tracing).await;
        }
        Command::Migrate => {
            telemetry::init(config.is_production());
            let url =
                secrecy::ExposeSecret::expose_secret(&config.database.database_url).to_owned();
            if config.database.database_create {
                db::create_database_if_missing(&url).await?;
            }
            db::run_migrations(&url).await?;
            println!("migrations applied");
        }
        Command::ExportSchema => print!("{}", graphql::sdl()),
        Command::Token { sub, admin, ttl } => {
            config.validate()?;
            let request = TokenRequest {
                subject: &sub,
                admin,
                ttl,
                issuer: config.auth.jwt_issuer.as_deref(),
                audience: config.auth.jwt_audience.as_deref(),
            };
            println!("{}", auth::mint(&config.effective_secret(), &request)?);
        }
        Command::GenerateSecret { length } => {
            let mut bytes = vec![0u8; length.max(32)];
            rand::rng().fill_bytes(&mut bytes);
            println!("{}", hex::encode(bytes));
        }
    }
    Ok(())
}

/// Bulk-load deterministic demo/benchmark data (users u00001.., each with a
/// profile, badges and goals: the benchmark kit's seed.sql content) in one
/// transaction, then ANALYZE.
#[derive(Debug, Args)]
struct SeedArgs {
    /// Users u00001 .. uNNNNN.
    #[arg(long, default_value_t = 10_000)]
    users: u32,
    /// Badges per user.
    #[arg(long, default_value_t = 5)]
    badges: u32,
    /// Learning goals per user.
    #[arg(long, default_value_t = 5)]
    goals: u32,
    /// Delete those users (and everything they own) first instead of
    /// refusing when some exist.
    #[arg(long)]
    replace: bool,
}

/// One connection to this service's database, created and migrated first
/// as configured.
async fn prepared_connection(
    config: &user_service::config::DatabaseConfig,
) -> anyhow::Result<diesel_async::AsyncPgConnection> {
    let url = secrecy::ExposeSecret::expose_secret(&config.database_url).to_owned();
    if config.database_create {
        db::create_database_if_missing(&url).await?;
    }
    if config.run_migrations {
        db::run_migrations(&url).await?;
    }
    Ok(<diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&url).await?)
}

/// Creates and migrates the database as configured, then seeds it.
async fn run_seed(
    config: &user_service::config::DatabaseConfig,
    args: SeedArgs,
) -> anyhow::Result<()> {
    let mut conn = prepared_connection(config)
        .await
        .context("cannot connect to PostgreSQL")?;
    let started = std::time::Instant::now();
    let report = db::seed::seed(
        &mut conn,
        db::seed::SeedPlan {
            users: args.users,
            badges_per_user: args.badges,
            goals_per_user: args.goals,
            replace: args.replace,
        },
    )
    .await?;
    println!(
        "seeded {} users, {} badges, {} goals ({} replaced) and analyzed, in {:.1} s",
        report.users,
        report.badges,
        report.goals,
        report.replaced,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `import-legacy --from <postgres url> [--dry-run] [--schema v1|v2]`: the
/// users, badges and goals of the old FastAPI user-service (see
/// `user_service::legacy`). Progress goes to stderr, the report to stdout.
#[derive(Debug, Args)]
struct ImportLegacyArgs {
    /// The legacy service's PostgreSQL database.
    #[arg(long = "from", value_name = "POSTGRES_URL")]
    from: String,
    /// Do everything in a transaction that is rolled back: the report
    /// says what a real run would do.
    #[arg(long)]
    dry_run: bool,
    /// The legacy schema; detected when absent.
    #[arg(long, value_enum)]
    schema: Option<legacy::source::LegacySchema>,
    /// Rows per batch (one transaction each).
    #[arg(long, default_value_t = 500)]
    batch_size: i64,
}

/// Creates and migrates this service's database as configured, then
/// imports into it.
async fn run_import(
    config: &user_service::config::DatabaseConfig,
    args: ImportLegacyArgs,
) -> anyhow::Result<()> {
    let mut target = prepared_connection(config)
        .await
        .context("cannot connect to the user-service database")?;
    let mut source =
        <diesel_async::AsyncPgConnection as diesel_async::AsyncConnection>::establish(&args.from)
            .await
            .context("cannot connect to the legacy database (--from)")?;
    let options = legacy::ImportOptions {
        schema: args.schema,
        dry_run: args.dry_run,
        batch_size: args.batch_size,
    };
    let report = legacy::import(
        &mut source,
        &mut target,
        options,
        chrono::Utc::now,
        |line| eprintln!("{line}"),
    )
    .await?;
    print!("{report}");
    Ok(())
}

/// A token cancelled on SIGINT or SIGTERM.
fn shutdown_token() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        server::shutdown_signal().await;
        cancel.cancel();
    });
    token
}

/// Logging, and trace export when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
fn start_tracing(
    config: &user_service::config::Config,
) -> anyhow::Result<Option<opentelemetry_sdk::trace::SdkTracerProvider>> {
    let otel = telemetry::OtelSettings::from_config(&config.platform);
    telemetry::init_with(config.is_production(), otel.as_ref())
        .context("OTEL_EXPORTER_OTLP_ENDPOINT: the exporter cannot be built")
}

/// Exports the spans still buffered (the provider blocks while it does).
async fn stop_tracing(provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>) {
    if let Some(provider) = provider {
        let stopped = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if !matches!(stopped, Ok(Ok(()))) {
            eprintln!("warning: the trace exporter did not shut down cleanly: {stopped:?}");
        }
    }
}
