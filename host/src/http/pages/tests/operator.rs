//! Page tests of `operator` (being built: issue 6).
