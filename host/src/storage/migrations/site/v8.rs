//! Site schema version 8: announcements, the inbox, message preferences,
//! the mail queue and the site's own settings (SMTP).

use redb::{TableDefinition, WriteTransaction};

use crate::storage::Result;

const ANNOUNCEMENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("announcements-v1");
const COURSE_ANNOUNCEMENTS: TableDefinition<(u64, u64), ()> =
    TableDefinition::new("course-announcements-v1");
const SCHEDULED_ANNOUNCEMENTS: TableDefinition<(i64, u64), ()> =
    TableDefinition::new("scheduled-announcements-v1");
const ANNOUNCEMENT_RECIPIENTS: TableDefinition<(u64, u32), &[u8]> =
    TableDefinition::new("announcement-recipients-v1");
const INBOX: TableDefinition<(u64, u64), u8> = TableDefinition::new("inbox-v1");
const INBOX_UNREAD: TableDefinition<u64, u64> = TableDefinition::new("inbox-unread-v1");
const MESSAGE_PREFERENCES: TableDefinition<u64, &[u8]> =
    TableDefinition::new("message-preferences-v1");
const MAIL_JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("mail-jobs-v1");
const MAIL_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("mail-due-v1");
const MAIL_FAILURES: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("mail-failures-v1");
const SETTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("settings-v1");

/// Creates the messaging tables, empty: before this version a site had
/// no announcements, inbox or mail to carry over.
pub(super) fn add_messaging(tx: &WriteTransaction) -> Result<()> {
    tx.open_table(ANNOUNCEMENTS)?;
    tx.open_table(COURSE_ANNOUNCEMENTS)?;
    tx.open_table(SCHEDULED_ANNOUNCEMENTS)?;
    tx.open_table(ANNOUNCEMENT_RECIPIENTS)?;
    tx.open_table(INBOX)?;
    tx.open_table(INBOX_UNREAD)?;
    tx.open_table(MESSAGE_PREFERENCES)?;
    tx.open_table(MAIL_JOBS)?;
    tx.open_table(MAIL_DUE)?;
    tx.open_table(MAIL_FAILURES)?;
    tx.open_table(SETTINGS)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testing::Migrated;

    /// Migration 8 on a version-7 file: the new tables appear, empty.
    #[test]
    fn migration_8_adds_the_messaging_tables() {
        let file = Migrated::from(7, |_| {});
        assert_eq!(file.applied, vec![8, 9, 10, 11, 12, 13, 14, 15]);
        let names = file.table_names();
        for table in [
            "announcements-v1",
            "course-announcements-v1",
            "scheduled-announcements-v1",
            "announcement-recipients-v1",
            "inbox-v1",
            "inbox-unread-v1",
            "message-preferences-v1",
            "mail-jobs-v1",
            "mail-due-v1",
            "mail-failures-v1",
            "settings-v1",
        ] {
            assert!(names.contains(&table.to_owned()), "{table} missing");
        }
    }
}
