//! Page tests of `groups` (being built: issue 6).
