//! Page tests of `audit` (being built: issue 6).
