//! Page tests of `segments` (being built: issue 6).
