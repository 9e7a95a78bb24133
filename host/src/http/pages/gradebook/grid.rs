//! The grader report's body: one row per learner, one cell per grade,
//! as text or, in edit mode, as inputs.
//!
//! A page of 500 learners × 50 items is 25,000 cells, so this is written
//! straight into the template's output instead of through a view struct of
//! strings per cell (which cost more than the service that computed the
//! report), and every byte a cell repeats is weighed:
//! - the report opens as text, as Moodle's does with edit mode off: the
//!   page a manager reads to see who is behind is a tenth of the bytes of
//!   25,000 inputs;
//! - an input is named by the headers of its column and row
//!   (`aria-labelledby`), which carry the ids, rather than by a label
//!   string of its own;
//! - widths and alignment are the stylesheet's, the input type the
//!   default;
//! - an `id` is written only where a refusal must point at the input.
//!
//! An input carries its value (or what was typed), the previous value in
//! its name, its tab stop down the column, a total's computed value as the
//! placeholder; an overridden total is marked in both modes.

use std::collections::HashMap;
use std::fmt::{self, Display, Write};

use askama::filters::{Escaper, Html};

use crate::domain::*;
use crate::services::gradebook::format_grade;
use crate::services::gradebook::report::{Cell, GraderReport};

/// The id of the hidden word "for" that joins a column's name and a
/// learner's in each input's accessible name: "Quiz for Test, Ada".
pub(crate) const FOR_ID: &str = "gfor";

/// The id of a column header's name: an input's accessible name starts
/// with it.
pub(crate) fn column_id(item: GradeItemId) -> String {
    format!("i{item}")
}

/// The id of a cell's input, written only on a refused cell (its message
/// points back at it).
pub(crate) fn cell_id(user: UserId, item: GradeItemId) -> String {
    format!("g-{user}-{item}")
}

/// A grade as `format_grade` writes it, without a `String` for the common
/// whole numbers.
struct Grade(f64);

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        // Whole numbers below 2^53 print exactly as integers; `-0` as `0`,
        // as `format_grade` does.
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            write!(f, "{}", v as i64)
        } else {
            f.write_str(&format_grade(v))
        }
    }
}

/// Text escaped for HTML (askama's own escaper, as in the templates).
struct Esc<'a>(&'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Html.write_escaped_str(f, self.0)
    }
}

/// The report's rows, written as the `<tbody>`'s content.
pub(crate) struct Grid<'a> {
    /// Inputs (edit mode) or the grades as text.
    pub editing: bool,
    pub report: &'a GraderReport,
    /// What a refused save typed, by cell.
    pub typed: &'a HashMap<(UserId, GradeItemId), String>,
    /// The refusals, by cell.
    pub errors: &'a HashMap<(UserId, GradeItemId), String>,
}

impl fmt::Display for Grid<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let report = self.report;
        let n_rows = report.rows.len();
        for (r, row) in report.rows.iter().enumerate() {
            let user = row.user;
            write!(
                f,
                "\n<tr><th scope=\"row\"><span id=\"u{user}\">{}, {}</span> <span class=\"meta\">{}</span></th><td>",
                Esc(&row.lastname),
                Esc(&row.firstname),
                Esc(&row.username)
            )?;
            for (k, g) in row.groups.iter().enumerate() {
                if k > 0 {
                    f.write_str(", ")?;
                }
                Esc(g).fmt(f)?;
            }
            f.write_str("</td>")?;
            for (j, (cell, view)) in row.cells.iter().zip(&report.items).enumerate() {
                let total = view.item.is_total();
                if self.editing {
                    let tabindex = 1 + j * n_rows + r;
                    self.input_cell(f, user, cell, total, tabindex)?;
                } else {
                    text_cell(f, cell, total)?;
                }
            }
            f.write_str("</tr>")?;
        }
        Ok(())
    }
}

impl Grid<'_> {
    /// A cell of edit mode: an input with the previous value in its name.
    fn input_cell(
        &self,
        f: &mut fmt::Formatter<'_>,
        user: UserId,
        cell: &Cell,
        total: bool,
        tabindex: usize,
    ) -> fmt::Result {
        let item = cell.item;
        // A total's input holds only its override: blank is none.
        let stored = if total && !cell.overridden {
            None
        } else {
            cell.value
        };
        let key = (user, item);
        let error = self.errors.get(&key);
        f.write_str(match (total, error.is_some()) {
            (false, false) => "<td>",
            (true, false) => "<td class=\"total-column\">",
            (false, true) => "<td class=\"field-error\">",
            (true, true) => "<td class=\"total-column field-error\">",
        })?;
        f.write_str("<input name=\"g_")?;
        write!(f, "{user}_{item}_")?;
        if let Some(v) = stored {
            Grade(v).fmt(f)?;
        }
        f.write_str("\" value=\"")?;
        match self.typed.get(&key) {
            Some(text) => Esc(text).fmt(f)?,
            None => {
                if let Some(v) = stored {
                    Grade(v).fmt(f)?;
                }
            }
        }
        write!(
            f,
            "\" tabindex=\"{tabindex}\" aria-labelledby=\"i{item} {FOR_ID} u{user}\""
        )?;
        if total && let Some(c) = cell.computed {
            write!(f, " placeholder=\"{}\"", Grade(c))?;
        }
        if error.is_some() {
            let id = cell_id(user, item);
            write!(
                f,
                " id=\"{id}\" aria-invalid=\"true\" aria-describedby=\"{id}-error\""
            )?;
        }
        f.write_char('>')?;
        if cell.overridden {
            overridden_badge(f, cell)?;
        }
        if let Some(m) = error {
            write!(
                f,
                "<span class=\"field-message\" id=\"{}-error\">{}</span>",
                cell_id(user, item),
                Esc(m)
            )?;
        }
        f.write_str("</td>")
    }
}

/// A cell as text: the grade, "–" when there is none; a total shows its
/// computed value unless overridden.
fn text_cell(f: &mut fmt::Formatter<'_>, cell: &Cell, total: bool) -> fmt::Result {
    f.write_str(if total {
        "<td class=\"total-column\">"
    } else {
        "<td>"
    })?;
    let shown = if total && !cell.overridden {
        cell.computed
    } else {
        cell.value
    };
    match shown {
        Some(v) => Grade(v).fmt(f)?,
        None => f.write_str("–")?,
    }
    if cell.overridden {
        overridden_badge(f, cell)?;
    }
    f.write_str("</td>")
}

/// The mark of an overridden total, with the value it replaces.
fn overridden_badge(f: &mut fmt::Formatter<'_>, cell: &Cell) -> fmt::Result {
    let computed = cell.computed.map_or_else(|| "–".to_owned(), format_grade);
    write!(
        f,
        " <span class=\"badge\" title=\"computed: {computed}\">overridden<span class=\"visually-hidden\"> (computed {computed})</span></span>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grade_is_written_as_format_grade_writes_it() {
        for v in [
            0.0,
            -0.0,
            1.0,
            7.5,
            8.25,
            9.999,
            10.0,
            100.0,
            1e15,
            1e16,
            1e300,
            -3.0,
            -2.5,
            0.004,
            0.005,
            123456789.125,
        ] {
            assert_eq!(Grade(v).to_string(), format_grade(v), "{v}");
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            Esc(r#"<b>"O'Hara" & co</b>"#).to_string(),
            "&#60;b&#62;&#34;O&#39;Hara&#34; &#38; co&#60;/b&#62;"
        );
    }
}
