//! Announcements (issue 17): what a site admin tells a segment or a
//! course, and what a teacher tells their course or some of its groups.

pub mod markdown;
