//! The `user-service` binary: parses the configuration, starts telemetry
//! and runs the subcommand (`serve` by default).

use anyhow::Context as _;
use clap::Parser;
use rand::RngCore;
use user_service::auth::{self, TokenRequest};
use user_service::config::{Cli, Command};
use user_service::db::{self, Database};
use user_service::{app, build_state, graphql, system_clock, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is fine; a broken one is worth a word.
    if let Err(error) = dotenvy::dotenv()
        && !error.not_found()
    {
        eprintln!("warning: .env not loaded: {error}");
    }
    let cli = Cli::parse();
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            telemetry::init(config.is_production());
            config.validate()?;
            let database = Database::connect(&config.database)
                .await
                .context("database set-up failed")?;
            let state = build_state(config.clone(), database, system_clock())?;
            app::serve(&config, app::router(state)).await?;
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
