//! GraphQL output types. Rows are converted with exhaustive destructuring,
//! so a new column cannot reach clients by accident.

mod activity;
mod badge;
mod connection;
mod goal;
mod user;

pub use activity::{ActivityEvent, UserStats};
pub use badge::Badge;
pub use connection::{PageInfo, UserConnection, UserEdge};
pub use goal::LearningGoal;
pub use user::{Access, User, UserPreferences};

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::NaiveDate;

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date(pub NaiveDate);

/// A calendar day in ISO 8601 form, `YYYY-MM-DD`.
#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}
