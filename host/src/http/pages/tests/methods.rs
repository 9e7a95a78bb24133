//! Page tests of `methods` (being built: issue 6).
