//! Reading a CSV upload into rows, before anything about the site is known.
//!
//! What people bring is what spreadsheets and Moodle write: UTF-8 with or
//! without a byte-order mark, comma or semicolon as the separator (Excel in
//! most of Europe writes semicolons), CRLF, LF or — from old Mac tools —
//! CR-only line ends, and quoted fields holding separators and newlines.
//! The `csv` crate does the quoting; this module adds what it leaves to us:
//! the separator guess, the physical line each row starts on (what the
//! report names, so a person finds the row in their editor), and the
//! per-field UTF-8 check, so one mis-encoded name is reported by row and
//! column instead of refusing the file with a byte offset.

use super::{Issues, RowIssue};

/// A parsed file: the header's column names (trimmed, lower-cased) and the
/// rows that have exactly one cell per column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The line of the header (1 unless the file starts with blank lines).
    pub header_line: u64,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
    /// Every data row read, those refused here included (blank lines are
    /// not rows): what a report counts as the file's rows.
    pub read: u64,
}

/// One data row and the physical line it starts on (the header is on
/// line 1 of a file without leading blank lines).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub cells: Vec<String>,
}

impl Table {
    /// The position of a column, by its (lower-case) name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }

    /// How a report names column `i`: its header, or its position when
    /// the header cell is blank.
    pub fn column_label(&self, i: usize) -> String {
        match self.columns.get(i).map(String::as_str) {
            Some("") | None => format!("column {}", i + 1),
            Some(name) => name.to_owned(),
        }
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Reads `bytes` into a table. Every problem is recorded in `issues` with
/// its row and column; a row with a problem is left out of the table (it
/// has already been reported, and validating its cells would only add
/// noise). Returns `None` when there is no header to read the rows by.
pub fn parse(bytes: &[u8], issues: &mut Issues) -> Option<Table> {
    let body = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut lines = LineCounter::new(body);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(detect_delimiter(body))
        .has_headers(false)
        // Rows of the wrong length are ours to report, by row.
        .flexible(true)
        // Any of CR, LF or CRLF ends a record.
        .terminator(csv::Terminator::CRLF)
        .from_reader(body);
    let mut record = csv::ByteRecord::new();
    let mut table: Option<Table> = None;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            // Reading from a slice cannot fail with I/O; a csv error here
            // would be a bug of ours or the crate's, and is reported as the
            // reason the rest of the file was not read.
            Err(e) => {
                let line = lines.line_at(e.position().map_or(body.len() as u64, |p| p.byte()));
                issues.error(RowIssue::new(
                    line,
                    None,
                    format!("the file cannot be read past here: {e}"),
                ));
                break;
            }
        }
        let start = record.position().map_or(0, |p| p.byte());
        let line = lines.line_at(start);
        // Spreadsheets pad a sheet with rows of empty cells (";;;"): they
        // carry nothing, so they are skipped like blank lines.
        if record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        match &mut table {
            None => table = Some(header(&record, line, issues)),
            Some(t) => {
                t.read += 1;
                if let Some(row) = data_row(t, &record, line, issues) {
                    t.rows.push(row);
                }
            }
        }
    }
    if table.is_none() {
        let reason = if body.iter().all(u8::is_ascii_whitespace) {
            "the file is empty; the first line must name the columns"
        } else {
            "the file has no header line naming the columns"
        };
        issues.error(RowIssue::new(1, None, reason.to_owned()));
    }
    if let Some(t) = table.as_ref().filter(|t| t.read == 0) {
        // Nothing to import is a refusal, not a success of zero rows: the
        // person meant to send something and should hear it did not come.
        issues.error(RowIssue::new(
            t.header_line,
            None,
            "the file has a header but no rows".to_owned(),
        ));
    }
    table
}

fn header(record: &csv::ByteRecord, line: u64, issues: &mut Issues) -> Table {
    let mut columns = Vec::with_capacity(record.len());
    for (i, field) in record.iter().enumerate() {
        let name = match std::str::from_utf8(field) {
            Ok(s) => s.trim().to_lowercase(),
            Err(e) => {
                issues.error(RowIssue::new(
                    line,
                    Some(format!("column {}", i + 1)),
                    not_utf8(field, &e),
                ));
                String::new()
            }
        };
        if !name.is_empty() && columns.contains(&name) {
            issues.error(RowIssue::new(
                line,
                Some(name.clone()),
                "the column appears twice in the header".to_owned(),
            ));
        }
        columns.push(name);
    }
    Table {
        header_line: line,
        columns,
        rows: Vec::new(),
        read: 0,
    }
}

fn data_row(t: &Table, record: &csv::ByteRecord, line: u64, issues: &mut Issues) -> Option<Row> {
    if record.len() != t.columns.len() {
        let (what, n) = if record.len() < t.columns.len() {
            ("too few", record.len())
        } else {
            ("too many", record.len())
        };
        issues.error(RowIssue::new(
            line,
            None,
            format!(
                "{what} fields: the row has {n} and the header {}",
                t.columns.len()
            ),
        ));
        return None;
    }
    let mut cells = Vec::with_capacity(record.len());
    let mut ok = true;
    for (i, field) in record.iter().enumerate() {
        match std::str::from_utf8(field) {
            Ok(s) => cells.push(s.to_owned()),
            Err(e) => {
                ok = false;
                issues.error(RowIssue::new(
                    line,
                    Some(t.column_label(i)),
                    not_utf8(field, &e),
                ));
            }
        }
    }
    ok.then_some(Row { line, cells })
}

fn not_utf8(field: &[u8], e: &std::str::Utf8Error) -> String {
    let at = e.valid_up_to();
    let byte = field.get(at).copied().unwrap_or(0);
    format!(
        "is not UTF-8 text (byte 0x{byte:02X} after {at} valid bytes); save the file as \
         \"CSV UTF-8\""
    )
}

/// The separator of the header line: a semicolon when it has more
/// semicolons than commas outside quotes, else a comma. The header names
/// the columns, so it is the one line whose separators are all real.
fn detect_delimiter(body: &[u8]) -> u8 {
    let (mut commas, mut semicolons, mut quoted) = (0usize, 0usize, false);
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => commas += 1,
            b';' if !quoted => semicolons += 1,
            b'\r' | b'\n' if !quoted => break,
            _ => {}
        }
    }
    if semicolons > commas { b';' } else { b',' }
}

/// Physical line numbers of byte offsets, for offsets asked in increasing
/// order (as records come): CR, LF and CRLF each end one line, inside
/// quoted fields too, since that is what an editor shows.
struct LineCounter<'a> {
    body: &'a [u8],
    at: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(body: &'a [u8]) -> Self {
        Self {
            body,
            at: 0,
            line: 1,
        }
    }

    /// The line of the first byte at or after `offset` that is not a line
    /// end: a record's position may be taken before the blank lines the
    /// reader skipped to reach it.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut target =
            usize::try_from(offset).map_or(self.body.len(), |o| o.min(self.body.len()));
        while target < self.body.len() && matches!(self.body[target], b'\r' | b'\n') {
            target += 1;
        }
        while self.at < target {
            match self.body[self.at] {
                b'\n' => self.line += 1,
                b'\r' if self.body.get(self.at + 1) != Some(&b'\n') => self.line += 1,
                _ => {}
            }
            self.at += 1;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> (Option<Table>, Issues) {
        let mut issues = Issues::default();
        let t = parse(bytes, &mut issues);
        (t, issues)
    }

    fn rows(t: &Table) -> Vec<(u64, Vec<&str>)> {
        t.rows
            .iter()
            .map(|r| (r.line, r.cells.iter().map(String::as_str).collect()))
            .collect()
    }

    #[test]
    fn every_line_end_and_a_bom_read_the_same() {
        let expected = vec![
            (2, vec!["Human resources", "hr"]),
            (3, vec!["Finance", "fin"]),
        ];
        for text in [
            "name,idnumber\nHuman resources,hr\nFinance,fin\n",
            "name,idnumber\r\nHuman resources,hr\r\nFinance,fin\r\n",
            "name,idnumber\rHuman resources,hr\rFinance,fin",
            "\u{FEFF}name,idnumber\r\nHuman resources,hr\r\nFinance,fin",
            "\u{FEFF}Name ; IDNumber\nHuman resources;hr\nFinance;fin\n",
        ] {
            let (t, issues) = read(text.as_bytes());
            let t = t.expect("a table");
            assert!(issues.errors.is_empty(), "{text:?}: {:?}", issues.errors);
            assert_eq!(t.columns, ["name", "idnumber"], "{text:?}");
            assert_eq!(rows(&t), expected, "{text:?}");
        }
    }

    #[test]
    fn quoted_fields_keep_separators_and_newlines_and_lines_stay_physical() {
        let text =
            "name;description\r\n\"A; B\";\"line one\r\nline two\"\r\n\r\nC;\"say \"\"hi\"\"\"\r\n";
        let (t, issues) = read(text.as_bytes());
        let t = t.expect("a table");
        assert!(issues.errors.is_empty(), "{:?}", issues.errors);
        assert_eq!(
            rows(&t),
            vec![
                (2, vec!["A; B", "line one\r\nline two"]),
                (5, vec!["C", "say \"hi\""]),
            ]
        );
    }

    #[test]
    fn the_separator_is_read_from_the_header_outside_quotes() {
        assert_eq!(detect_delimiter(b"\"a;b;c\",d\n1;2;3;4"), b',');
        assert_eq!(detect_delimiter(b"a;b,c;d\n"), b';');
        assert_eq!(detect_delimiter(b"name\n"), b',');
    }

    #[test]
    fn rows_of_the_wrong_length_are_errors_naming_their_line() {
        let (t, issues) = read(b"a,b,c\n1,2\n1,2,3\n1,2,3,4\n");
        assert_eq!(rows(&t.expect("table")), vec![(3, vec!["1", "2", "3"])]);
        assert_eq!(
            issues.errors,
            vec![
                RowIssue::new(
                    2,
                    None,
                    "too few fields: the row has 2 and the header 3".into()
                ),
                RowIssue::new(
                    4,
                    None,
                    "too many fields: the row has 4 and the header 3".into()
                ),
            ]
        );
    }

    #[test]
    fn text_that_is_not_utf8_is_named_by_row_and_column() {
        // "Zoë" in Windows-1252, as Excel's plain "CSV" saves it.
        let (t, issues) = read(b"name,idnumber\nOK,ok\nZo\xEB,z\n");
        assert_eq!(rows(&t.expect("table")), vec![(2, vec!["OK", "ok"])]);
        assert_eq!(issues.errors.len(), 1);
        let e = &issues.errors[0];
        assert_eq!((e.row, e.column.as_deref()), (3, Some("name")));
        assert!(
            e.reason
                .starts_with("is not UTF-8 text (byte 0xEB after 2 valid bytes)"),
            "{e:?}"
        );
    }

    #[test]
    fn an_empty_file_or_one_without_a_header_is_an_error() {
        for text in [&b""[..], b"\xEF\xBB\xBF", b"\r\n\n", b";;\n ; ;\r\n"] {
            let (t, issues) = read(text);
            assert_eq!(t, None, "{text:?}");
            assert_eq!(issues.errors.len(), 1, "{text:?}");
            assert_eq!(issues.errors[0].row, 1);
        }
    }

    #[test]
    fn a_column_named_twice_is_an_error() {
        let (_, issues) = read(b"username,Username\na,b\n");
        assert_eq!(
            issues.errors,
            vec![RowIssue::new(
                1,
                Some("username".into()),
                "the column appears twice in the header".into()
            )]
        );
    }
}
