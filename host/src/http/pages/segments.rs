//! (being built: issue 6)

use super::page_routes;

page_routes! {}
