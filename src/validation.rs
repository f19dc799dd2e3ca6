//! The validation rules of user input (contract §2, "Validation"), below
//! every surface that takes input: the GraphQL inputs
//! (`graphql::inputs`) and the legacy import (`legacy`) apply the same
//! functions and limits. Strings are trimmed; a failure is
//! `BAD_USER_INPUT` naming the field.

use crate::error::{AppError, AppResult};

/// The longest text each field takes, in characters.
pub mod limits {
    pub const DISPLAY_NAME: usize = 100;
    pub const BIO: usize = 2000;
    pub const HEADLINE: usize = 200;
    pub const LOCATION: usize = 100;
    pub const BADGE_NAME: usize = 100;
    pub const BADGE_DESCRIPTION: usize = 500;
    pub const GOAL_TITLE: usize = 200;
    pub const GOAL_DESCRIPTION: usize = 2000;
}

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Most skills a profile holds.
pub const MAX_SKILLS: usize = 50;
/// Longest skill.
pub const MAX_SKILL_LEN: usize = 50;

/// Trims `value` and checks its length in characters; empty is `None`.
fn trimmed(field: &str, value: &str, max: usize) -> AppResult<Option<String>> {
    let value = value.trim();
    if value.chars().count() > max {
        return Err(AppError::invalid(
            field,
            format!("{field} must be at most {max} characters"),
        ));
    }
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

/// A required, non-empty text.
pub fn required_text(field: &str, value: &str, max: usize) -> AppResult<String> {
    trimmed(field, value, max)?
        .ok_or_else(|| AppError::invalid(field, format!("{field} must not be empty")))
}

/// An optional text: blank counts as absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    value.map_or(Ok(None), |value| trimmed(field, value, max))
}

/// An optional absolute http(s) URL.
pub fn optional_url(field: &str, value: Option<&str>) -> AppResult<Option<String>> {
    let Some(value) = optional_text(field, value, MAX_URL_LEN)? else {
        return Ok(None);
    };
    match url::Url::parse(&value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => {
            Ok(Some(value))
        }
        _ => Err(AppError::invalid(
            field,
            format!("{field} must be an absolute http or https URL"),
        )),
    }
}

/// Skills: trimmed, each 1 to 50 characters, duplicates dropped regardless
/// of case (the first spelling wins), at most 50.
pub fn skills(field: &str, values: &[String]) -> AppResult<Vec<String>> {
    let mut seen = std::collections::HashSet::new();
    let mut skills = Vec::new();
    for value in values {
        let skill = required_text(field, value, MAX_SKILL_LEN)?;
        if seen.insert(skill.to_lowercase()) {
            skills.push(skill);
        }
    }
    if skills.len() > MAX_SKILLS {
        return Err(AppError::invalid(
            field,
            format!("at most {MAX_SKILLS} skills are allowed"),
        ));
    }
    Ok(skills)
}
