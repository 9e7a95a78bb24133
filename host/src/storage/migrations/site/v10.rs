//! Site schema version 10: forums — discussions, their posts and who
//! subscribed to a forum or a discussion (issue 18).

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

/// `DiscussionId → Discussion` (postcard).
const DISCUSSIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("discussions-v1");
/// `(forum ActivityId, CourseGroupId or 0, DiscussionId) → ()`.
const FORUM_DISCUSSIONS: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("forum-discussions-v1");
/// `(DiscussionId, PostId) → Post` (postcard).
const POSTS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("posts-v1");
/// `PostId → DiscussionId`.
const POST_DISCUSSIONS: TableDefinition<u64, u64> = TableDefinition::new("post-discussions-v1");
/// `(forum ActivityId, DiscussionId or 0, UserId) → ()`.
const FORUM_SUBSCRIPTIONS: TableDefinition<(u64, u64, u64), ()> =
    TableDefinition::new("forum-subscriptions-v1");

/// Creates the forum tables, empty: before this version a course held no
/// forum to carry over.
pub(super) fn add_forums(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(DISCUSSIONS)?;
    tx.open_table(FORUM_DISCUSSIONS)?;
    tx.open_table(POSTS)?;
    tx.open_table(POST_DISCUSSIONS)?;
    tx.open_table(FORUM_SUBSCRIPTIONS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;

    /// Migration 10 on a version-9 file: the forum tables appear, empty.
    #[test]
    fn migration_10_adds_the_forum_tables() {
        let file = Migrated::from(9, |_| {});
        assert_eq!(file.applied, vec![10, 11, 12, 13, 14, 15]);
        let names = file.table_names();
        for table in [
            "discussions-v1",
            "forum-discussions-v1",
            "posts-v1",
            "post-discussions-v1",
            "forum-subscriptions-v1",
        ] {
            assert!(names.contains(&table.to_owned()), "{table} missing");
        }
    }
}
