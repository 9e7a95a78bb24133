//! Page tests of `courses` (being built: issue 6).
