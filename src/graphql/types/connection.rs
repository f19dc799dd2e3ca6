use async_graphql::SimpleObject;

use crate::graphql::types::User;

/// Where a page stands in the whole listing. Shareable: other subgraphs
/// may define the same Relay type.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(shareable)]
pub struct PageInfo {
    /// Whether another page follows.
    pub has_next_page: bool,
    /// The cursor of the last edge, to pass as `after` for the next page.
    pub end_cursor: Option<String>,
}

/// A user in a page, with its cursor.
#[derive(SimpleObject)]
pub struct UserEdge {
    /// Opaque position of this edge.
    pub cursor: String,
    /// The user.
    pub node: User,
}

/// A page of users.
#[derive(SimpleObject)]
pub struct UserConnection {
    /// The users of this page.
    pub edges: Vec<UserEdge>,
    /// How to get the next page.
    pub page_info: PageInfo,
}
