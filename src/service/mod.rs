//! The write layer: one module per aggregate ([`profile`], [`settings`],
//! [`goals`], [`badges`]) plus user provisioning ([`users`]). Each function
//! takes a [`Writer`], an [`AuthUserId`](crate::domain::AuthUserId) and an
//! already validated input, and returns the rows it wrote. It owns the one
//! transaction of its change: ensure the user, apply the change, record the
//! activity event, commit.
//!
//! Every transaction runs through [`Writer::commit`], and only there: it is
//! the one place that sees each committed change. Changes are announced
//! (live updates, [`crate::live`]) from inside that transaction: the one
//! activity event each change records fires a trigger that issues
//! `NOTIFY`, which PostgreSQL delivers, to every replica, only when the
//! transaction commits (and never for one that rolls back).
//!
//! The GraphQL resolvers parse and validate, call one function here and
//! convert the rows; this layer knows nothing of GraphQL.

pub mod badges;
pub mod goals;
pub mod profile;
pub mod settings;
pub mod users;

use std::future::Future;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};

use crate::clients::auth_service::AuthServiceClient;
use crate::clock::SharedClock;
use crate::db::Database;
use crate::error::AppResult;

/// Whether a user who holds `held` items may create one more under `cap`.
fn below_cap(held: i64, cap: usize) -> bool {
    usize::try_from(held).is_ok_and(|held| held < cap)
}

/// What the write layer needs of the application: the database, the clock
/// and the auth-service (to learn about a user met for the first time).
#[derive(Clone, Copy)]
pub struct Writer<'a> {
    pub db: &'a Database,
    pub clock: &'a SharedClock,
    pub auth_service: &'a AuthServiceClient,
}

/// The body of a unit of work: an async closure over the transaction's
/// connection whose future is `Send`. It is the bound diesel-async's own
/// `transaction` asks for, spelt out so [`Writer::commit`] can pass it on;
/// any `async |conn| { ... }` closure that holds only `Send` values has it.
pub trait Work<'c, T>:
    AsyncFnOnce(&'c mut AsyncPgConnection) -> AppResult<T>
    + FnOnce(&'c mut AsyncPgConnection) -> <Self as Work<'c, T>>::Fut
{
    /// The future the closure returns.
    type Fut: Future<Output = AppResult<T>> + Send;
}

impl<'c, T, F, Fut> Work<'c, T> for F
where
    F: AsyncFnOnce(&'c mut AsyncPgConnection) -> AppResult<T>
        + FnOnce(&'c mut AsyncPgConnection) -> Fut,
    Fut: Future<Output = AppResult<T>> + Send,
{
    type Fut = Fut;
}

impl<'a> Writer<'a> {
    /// The clock's current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Runs `work` in one transaction on a pooled connection and returns
    /// what it wrote once the transaction has committed. The connection
    /// goes back to the pool before this returns.
    ///
    /// **The announce point**: every write of the service passes here, and
    /// a value returned from here is committed. The activity event `work`
    /// records is announced by the `activity_events` trigger's `NOTIFY`,
    /// which PostgreSQL holds back until this transaction commits (and
    /// drops if it rolls back): no in-process broadcast is needed, and
    /// every replica hears it ([`crate::live`]).
    pub async fn commit<T, F>(self, work: F) -> AppResult<T>
    where
        for<'c> F: AsyncFnOnce(&'c mut AsyncPgConnection) -> AppResult<T> + Work<'c, T> + Send,
        T: Send,
    {
        let mut pooled = self.db.pool.get().await?;
        let conn: &mut AsyncPgConnection = &mut pooled;
        let rows = conn.transaction(work).await?;
        drop(pooled);
        Ok(rows)
    }
}
