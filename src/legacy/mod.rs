//! `user-service import-legacy`: brings the data of the old FastAPI
//! user-service (either of its schemas, [`source::LegacySchema`]) into this
//! service's tables.
//!
//! - Users first (reference row and profile), then badges, then goals, each
//!   read in batches ordered by legacy id and written one transaction per
//!   batch (a row the database refuses is refused alone, through a
//!   savepoint).
//! - Every value passes this service's validation ([`rules`]); a row that
//!   fails it, or that it would change (trimming, de-duplication), is
//!   refused and reported, never altered.
//! - Idempotent and resumable: ids are kept or derived the same way on
//!   every run ([`rules::row_id`]), and a row already here is skipped, so a
//!   second run writes nothing and a run killed half-way is finished by
//!   running it again.
//! - `--dry-run` does all of it inside one transaction that is rolled back,
//!   so its counts are exactly those of a real run.

pub mod rules;
pub mod source;

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::db;
use crate::db::imports::Written;
use crate::domain::{AuthUserId, MAX_BADGES_PER_USER, MAX_GOALS_PER_USER};
use crate::error::is_connection_failure;
use source::{LegacySchema, SourceError};

/// What the command was asked.
#[derive(Debug, Clone, Copy)]
pub struct ImportOptions {
    /// The schema, or `None` to detect it.
    pub schema: Option<LegacySchema>,
    pub dry_run: bool,
    /// Rows per batch (and per transaction).
    pub batch_size: i64,
}

/// Why the import stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("writing to the user-service database failed: {0}")]
    Target(#[from] diesel::result::Error),
}

/// Counts of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub read: u64,
    pub written: u64,
    pub skipped: u64,
    pub refused: u64,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedRow {
    pub table: &'static str,
    /// The legacy id.
    pub key: String,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    pub schema: LegacySchema,
    pub dry_run: bool,
    pub users: Counts,
    pub badges: Counts,
    pub goals: Counts,
    /// Skipped rows by table and reason.
    pub skipped: BTreeMap<(&'static str, String), u64>,
    pub refused: Vec<RefusedRow>,
}

impl ImportReport {
    fn counts(&mut self, table: &'static str) -> &mut Counts {
        match table {
            "users" => &mut self.users,
            "badges" => &mut self.badges,
            _ => &mut self.goals,
        }
    }

    fn record(&mut self, table: &'static str, key: &str, outcome: Outcome) {
        let counts = self.counts(table);
        counts.read += 1;
        match outcome {
            Outcome::Written => counts.written += 1,
            Outcome::Skipped(reason) => {
                counts.skipped += 1;
                *self.skipped.entry((table, reason.to_owned())).or_default() += 1;
            }
            Outcome::Refused(reason) => {
                counts.refused += 1;
                self.refused.push(RefusedRow {
                    table,
                    key: key.to_owned(),
                    reason,
                });
            }
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "legacy schema {}{}",
            self.schema.describe(),
            if self.dry_run {
                " — dry run, nothing was written"
            } else {
                ""
            }
        )?;
        writeln!(
            f,
            "{:<8} {:>9} {:>9} {:>9} {:>9}",
            "table", "read", "written", "skipped", "refused"
        )?;
        for (table, counts) in [
            ("users", self.users),
            ("badges", self.badges),
            ("goals", self.goals),
        ] {
            writeln!(
                f,
                "{table:<8} {:>9} {:>9} {:>9} {:>9}",
                counts.read, counts.written, counts.skipped, counts.refused
            )?;
        }
        for ((table, reason), count) in &self.skipped {
            writeln!(f, "skipped {table}: {count} {reason}")?;
        }
        for row in &self.refused {
            writeln!(f, "refused {} {}: {}", row.table, row.key, row.reason)?;
        }
        Ok(())
    }
}

/// What became of one row.
enum Outcome {
    Written,
    Skipped(&'static str),
    Refused(String),
}

const ALREADY_PRESENT: &str = "already present";

/// The outcome of one row's write, run in its own savepoint: a refusal of
/// the database for this row (a constraint, say) refuses the row alone; a
/// lost connection stops the import.
fn row_outcome(written: Result<Written, diesel::result::Error>) -> Result<Outcome, ImportError> {
    match written {
        Ok(Written::Written) => Ok(Outcome::Written),
        Ok(Written::AlreadyPresent) => Ok(Outcome::Skipped(ALREADY_PRESENT)),
        Err(error) if is_connection_failure(&error) => Err(error.into()),
        Err(error) => Ok(Outcome::Refused(format!(
            "the database refused it: {error}"
        ))),
    }
}

/// The owner of a badge or goal: a valid id of a user this service holds.
async fn owner(
    conn: &mut AsyncPgConnection,
    owner: Option<&str>,
) -> Result<Result<AuthUserId, String>, ImportError> {
    let Some(owner) = owner else {
        return Ok(Err("it has no owner".to_owned()));
    };
    let id = match rules::user_id(owner) {
        Ok(id) => id,
        Err(reason) => return Ok(Err(format!("owner {reason}"))),
    };
    if db::auth_users::exists(conn, &id).await? {
        Ok(Ok(id))
    } else {
        Ok(Err(format!(
            "owner {owner} is not in this service (refused, deleted or missing)"
        )))
    }
}

/// Imports everything from `source` into `target`; `now` is the clock,
/// `progress` hears one line per batch.
pub async fn import(
    source: &mut AsyncPgConnection,
    target: &mut AsyncPgConnection,
    options: ImportOptions,
    now: impl Fn() -> DateTime<Utc>,
    mut progress: impl FnMut(&str),
) -> Result<ImportReport, ImportError> {
    let schema = match options.schema {
        Some(schema) => schema,
        None => source::detect(source).await?,
    };
    progress(&format!("reading legacy schema {}", schema.describe()));
    if options.dry_run {
        // Never committed: every batch below is a savepoint inside it.
        target.begin_test_transaction().await?;
    }
    let size = options.batch_size.max(1);
    let mut report = ImportReport {
        schema,
        dry_run: options.dry_run,
        users: Counts::default(),
        badges: Counts::default(),
        goals: Counts::default(),
        skipped: BTreeMap::new(),
        refused: Vec::new(),
    };

    let mut after: Option<String> = None;
    loop {
        let rows = source::users(source, schema, after.as_deref(), size).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.key.clone());
        let at = now();
        let outcomes = target
            .transaction(async |conn| {
                let mut outcomes = Vec::with_capacity(rows.len());
                for raw in &rows {
                    let outcome = match rules::user(raw) {
                        Err(reason) => Outcome::Refused(reason),
                        Ok(user) => {
                            if db::auth_users::tombstone(conn, &user.id).await?.is_some() {
                                Outcome::Refused(
                                    "the auth-service deleted this user (tombstone)".to_owned(),
                                )
                            } else {
                                row_outcome(
                                    conn.transaction(async |conn| {
                                        db::imports::write_user(conn, &user, at).await
                                    })
                                    .await,
                                )?
                            }
                        }
                    };
                    outcomes.push(outcome);
                }
                Ok::<_, ImportError>(outcomes)
            })
            .await?;
        for (raw, outcome) in rows.iter().zip(outcomes) {
            report.record("users", &raw.key, outcome);
        }
        progress(&format!(
            "users: {} read, {} written, {} skipped, {} refused (up to id {})",
            report.users.read,
            report.users.written,
            report.users.skipped,
            report.users.refused,
            last.key
        ));
    }

    let mut after: Option<String> = None;
    loop {
        let rows = source::badges(source, schema, after.as_deref(), size).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.key.clone());
        let at = now();
        let outcomes = target
            .transaction(async |conn| {
                let mut outcomes = Vec::with_capacity(rows.len());
                for raw in &rows {
                    let owner = match owner(conn, raw.owner.as_deref()).await? {
                        Ok(owner) => owner,
                        Err(reason) => {
                            outcomes.push(Outcome::Refused(reason));
                            continue;
                        }
                    };
                    let badge = match rules::badge(schema, raw, owner, at) {
                        Ok(badge) => badge,
                        Err(reason) => {
                            outcomes.push(Outcome::Refused(reason));
                            continue;
                        }
                    };
                    if db::imports::badge_exists(conn, badge.id).await? {
                        outcomes.push(Outcome::Skipped(ALREADY_PRESENT));
                        continue;
                    }
                    let held = db::badges::count_owned(conn, &badge.auth_user_id).await?;
                    if usize::try_from(held).is_ok_and(|held| held >= MAX_BADGES_PER_USER) {
                        outcomes.push(Outcome::Refused(format!(
                            "the owner already holds {MAX_BADGES_PER_USER} badges, the most a user may hold"
                        )));
                        continue;
                    }
                    let outcome = row_outcome(
                        conn.transaction(async |conn| db::imports::write_badge(conn, &badge).await)
                            .await,
                    )?;
                    outcomes.push(outcome);
                }
                Ok::<_, ImportError>(outcomes)
            })
            .await?;
        for (raw, outcome) in rows.iter().zip(outcomes) {
            report.record("badges", &raw.key, outcome);
        }
        progress(&format!(
            "badges: {} read, {} written, {} skipped, {} refused (up to id {})",
            report.badges.read,
            report.badges.written,
            report.badges.skipped,
            report.badges.refused,
            last.key
        ));
    }

    let mut after: Option<String> = None;
    loop {
        let rows = source::goals(source, schema, after.as_deref(), size).await?;
        let Some(last) = rows.last() else { break };
        after = Some(last.key.clone());
        let outcomes = target
            .transaction(async |conn| {
                let mut outcomes = Vec::with_capacity(rows.len());
                for raw in &rows {
                    let owner = match owner(conn, raw.owner.as_deref()).await? {
                        Ok(owner) => owner,
                        Err(reason) => {
                            outcomes.push(Outcome::Refused(reason));
                            continue;
                        }
                    };
                    let goal = match rules::goal(schema, raw, owner) {
                        Ok(goal) => goal,
                        Err(reason) => {
                            outcomes.push(Outcome::Refused(reason));
                            continue;
                        }
                    };
                    if db::imports::goal_exists(conn, goal.id).await? {
                        outcomes.push(Outcome::Skipped(ALREADY_PRESENT));
                        continue;
                    }
                    let held = db::goals::count_owned(conn, &goal.auth_user_id).await?;
                    if usize::try_from(held).is_ok_and(|held| held >= MAX_GOALS_PER_USER) {
                        outcomes.push(Outcome::Refused(format!(
                            "the owner already holds {MAX_GOALS_PER_USER} goals, the most a user may hold"
                        )));
                        continue;
                    }
                    let outcome = row_outcome(
                        conn.transaction(async |conn| db::imports::write_goal(conn, &goal).await)
                            .await,
                    )?;
                    outcomes.push(outcome);
                }
                Ok::<_, ImportError>(outcomes)
            })
            .await?;
        for (raw, outcome) in rows.iter().zip(outcomes) {
            report.record("goals", &raw.key, outcome);
        }
        progress(&format!(
            "goals: {} read, {} written, {} skipped, {} refused (up to id {})",
            report.goals.read,
            report.goals.written,
            report.goals.skipped,
            report.goals.refused,
            last.key
        ));
    }
    Ok(report)
}
