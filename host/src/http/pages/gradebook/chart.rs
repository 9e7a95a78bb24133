//! The per-group chart of the analysis page: one item, one horizontal bar
//! per cohort with its mean as a percentage of the item's maximum, a
//! diamond at its median, and the pass grade as a dashed line. Rendered
//! on the server as an accessible SVG (a `role="img"` with a title and a
//! description it is labelled by), readable without scripts and in a
//! screenshot; the numbers are in the table beside it.
//!
//! Pure: it takes display-ready numbers and returns markup, escaping every
//! text it writes (group names are user input). It never decides who sees
//! which cohort — the statistics it is given are the caller's already.

use std::fmt::Write as _;

/// One cohort's bar.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ChartBar {
    pub name: String,
    pub members: u64,
    pub graded: u64,
    /// The mean, as a percentage of the item's maximum (0–100).
    pub mean_percent: Option<f64>,
    pub median_percent: Option<f64>,
}

/// What the chart shows.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Chart {
    /// A prefix for the ids of the title and description, unique on the
    /// page.
    pub id: String,
    pub title: String,
    pub description: String,
    /// The pass grade, as a percentage of the maximum, when the item has
    /// one.
    pub pass_percent: Option<f64>,
    pub bars: Vec<ChartBar>,
}

/// The whole drawing's width.
pub(crate) const WIDTH: f64 = 760.0;
/// Where the axis starts (the cohort labels are left of it).
pub(crate) const AXIS_LEFT: f64 = 250.0;
/// The axis's length: 0 % to 100 %.
pub(crate) const AXIS_WIDTH: f64 = 420.0;
const TOP: f64 = 44.0;
const ROW: f64 = 34.0;
const BAR: f64 = 18.0;
const BOTTOM: f64 = 54.0;

/// `text` with the characters XML gives meaning escaped.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The x of `percent` on the axis (clamped to 0–100 %).
pub(crate) fn x_of(percent: f64) -> f64 {
    let p = if percent.is_finite() {
        percent.clamp(0.0, 100.0)
    } else {
        0.0
    };
    AXIS_LEFT + p / 100.0 * AXIS_WIDTH
}

fn percent_words(p: f64) -> String {
    format!("{p:.0} %")
}

/// The chart as an inline `<svg>` element.
pub(crate) fn render(chart: &Chart) -> String {
    let height = TOP + ROW * chart.bars.len().max(1) as f64 + BOTTOM;
    let axis_bottom = TOP + ROW * chart.bars.len().max(1) as f64;
    let id = escape(&chart.id);
    let mut s = String::with_capacity(2048 + 512 * chart.bars.len());
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" aria-labelledby="{id}-title {id}-desc" font-family="system-ui, sans-serif" font-size="13">"#
    );
    let _ = write!(
        s,
        r#"<title id="{id}-title">{}</title><desc id="{id}-desc">{}</desc>"#,
        escape(&chart.title),
        escape(&chart.description)
    );
    // Legend.
    let _ = write!(
        s,
        concat!(
            r##"<g class="legend"><rect x="{lx}" y="12" width="22" height="12" fill="#4a7fb0"/>"##,
            r##"<text x="{tx}" y="22">bar: mean</text>"##,
            r##"<path d="M{dx} 12 l6 6 l-6 6 l-6 -6 z" fill="#1b1b1b"/>"##,
            r##"<text x="{mx}" y="22">median</text>"##
        ),
        lx = AXIS_LEFT,
        tx = AXIS_LEFT + 28.0,
        dx = AXIS_LEFT + 120.0,
        mx = AXIS_LEFT + 130.0,
    );
    if chart.pass_percent.is_some() {
        let _ = write!(
            s,
            r##"<line x1="{a}" y1="18" x2="{b}" y2="18" stroke="#b3261e" stroke-width="2" stroke-dasharray="5 4"/><text x="{t}" y="22">pass grade</text>"##,
            a = AXIS_LEFT + 230.0,
            b = AXIS_LEFT + 256.0,
            t = AXIS_LEFT + 262.0,
        );
    }
    s.push_str("</g>");
    // Grid lines and tick labels every 20 %.
    s.push_str(r#"<g class="axis">"#);
    for tick in (0..=100).step_by(20) {
        let x = x_of(f64::from(tick));
        let _ = write!(
            s,
            r##"<line x1="{x}" y1="{TOP}" x2="{x}" y2="{axis_bottom}" stroke="#d0d4d9"/><text x="{x}" y="{ty}" text-anchor="middle">{tick} %</text>"##,
            ty = axis_bottom + 16.0,
        );
    }
    let _ = write!(
        s,
        r##"<line x1="{AXIS_LEFT}" y1="{axis_bottom}" x2="{end}" y2="{axis_bottom}" stroke="#555"/><text x="{mid}" y="{ly}" text-anchor="middle">Mean as % of the maximum grade</text></g>"##,
        end = AXIS_LEFT + AXIS_WIDTH,
        mid = AXIS_LEFT + AXIS_WIDTH / 2.0,
        ly = axis_bottom + 38.0,
    );
    for (i, bar) in chart.bars.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let centre = y + ROW / 2.0;
        let _ = write!(
            s,
            r#"<g class="cohort"><text x="{lx}" y="{ty}" text-anchor="end">{name} ({graded}/{members} graded)</text>"#,
            lx = AXIS_LEFT - 8.0,
            ty = centre + 4.0,
            name = escape(&bar.name),
            graded = bar.graded,
            members = bar.members,
        );
        match bar.mean_percent {
            Some(mean) => {
                let width = x_of(mean) - AXIS_LEFT;
                let _ = write!(
                    s,
                    r##"<rect class="bar" x="{AXIS_LEFT}" y="{by}" width="{width:.1}" height="{BAR}" fill="#4a7fb0"><title>{name}: mean {words}</title></rect>"##,
                    by = centre - BAR / 2.0,
                    name = escape(&bar.name),
                    words = percent_words(mean),
                );
                if let Some(median) = bar.median_percent {
                    let mx = x_of(median);
                    let _ = write!(
                        s,
                        r##"<path class="median" d="M{mx:.1} {top} l7 9 l-7 9 l-7 -9 z" fill="#1b1b1b" stroke="#fff"><title>{name}: median {words}</title></path>"##,
                        top = centre - 9.0,
                        name = escape(&bar.name),
                        words = percent_words(median),
                    );
                }
                let _ = write!(
                    s,
                    r#"<text x="{vx:.1}" y="{ty}">{words}</text>"#,
                    vx = x_of(mean).max(x_of(bar.median_percent.unwrap_or(0.0))) + 10.0,
                    ty = centre + 4.0,
                    words = percent_words(mean),
                );
            }
            None => {
                let _ = write!(
                    s,
                    r##"<text class="no-grades" x="{x}" y="{ty}" fill="#555" font-style="italic">no grades</text>"##,
                    x = AXIS_LEFT + 6.0,
                    ty = centre + 4.0,
                );
            }
        }
        s.push_str("</g>");
    }
    if let Some(pass) = chart.pass_percent {
        let x = x_of(pass);
        let _ = write!(
            s,
            r##"<line class="pass" x1="{x:.1}" y1="{top}" x2="{x:.1}" y2="{axis_bottom}" stroke="#b3261e" stroke-width="2" stroke-dasharray="5 4"><title>pass grade {words}</title></line>"##,
            top = TOP - 4.0,
            words = percent_words(pass),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(name: &str, mean: Option<f64>, median: Option<f64>) -> ChartBar {
        ChartBar {
            name: name.to_owned(),
            members: 4,
            graded: u64::from(mean.is_some()) * 3,
            mean_percent: mean,
            median_percent: median,
        }
    }

    fn chart(bars: Vec<ChartBar>, pass: Option<f64>) -> Chart {
        Chart {
            id: "c".into(),
            title: "Quiz by group".into(),
            description: "Means per group".into(),
            pass_percent: pass,
            bars,
        }
    }

    /// The `width` of every bar, in order.
    fn widths(svg: &str) -> Vec<f64> {
        svg.split(r#"<rect class="bar""#)
            .skip(1)
            .map(|part| {
                let w = part.split("width=\"").nth(1).expect("a width");
                w[..w.find('"').expect("closed")].parse().expect("a number")
            })
            .collect()
    }

    #[test]
    fn a_mean_of_half_the_maximum_is_half_the_axis_and_a_full_one_all_of_it() {
        let svg = render(&chart(
            vec![
                bar("Finance", Some(50.0), Some(60.0)),
                bar("IT", Some(100.0), None),
                bar("HR", Some(0.0), None),
            ],
            None,
        ));
        assert_eq!(widths(&svg), vec![AXIS_WIDTH / 2.0, AXIS_WIDTH, 0.0]);
        // The median marker's tip sits at 60 % of the axis.
        let tip = format!("M{:.1} ", AXIS_LEFT + 0.6 * AXIS_WIDTH);
        assert!(svg.contains(&tip), "{svg}");
        assert_eq!(svg.matches(r#"class="median""#).count(), 1);
    }

    #[test]
    fn values_off_the_axis_stay_on_it() {
        assert_eq!(x_of(150.0), AXIS_LEFT + AXIS_WIDTH);
        assert_eq!(x_of(-3.0), AXIS_LEFT);
        assert_eq!(x_of(f64::NAN), AXIS_LEFT);
    }

    #[test]
    fn a_cohort_without_grades_gets_a_labelled_row_and_no_bar() {
        let svg = render(&chart(
            vec![
                bar("Finance", Some(40.0), Some(40.0)),
                bar("Sales", None, None),
            ],
            None,
        ));
        assert_eq!(widths(&svg).len(), 1);
        assert!(svg.contains("Sales (0/4 graded)"));
        assert_eq!(svg.matches("no grades").count(), 1);
    }

    #[test]
    fn the_chart_is_labelled_by_its_title_and_description() {
        let svg = render(&chart(vec![bar("IT", Some(10.0), None)], Some(60.0)));
        assert!(svg.starts_with("<svg "));
        assert!(svg.contains(r#"role="img""#));
        assert!(svg.contains(r#"aria-labelledby="c-title c-desc""#));
        assert!(svg.contains(r#"<title id="c-title">Quiz by group</title>"#));
        assert!(svg.contains(r#"<desc id="c-desc">Means per group</desc>"#));
        assert!(svg.contains("Mean as % of the maximum grade"));
        // The pass grade's dashed line at 60 %.
        let x = format!(r#"class="pass" x1="{:.1}""#, AXIS_LEFT + 0.6 * AXIS_WIDTH);
        assert!(svg.contains(&x), "{svg}");
    }

    #[test]
    fn every_text_is_escaped() {
        let mut c = chart(
            vec![bar("<script>alert(1)</script> & \"co\"", Some(20.0), None)],
            None,
        );
        c.title = "<b>Quiz</b>".into();
        c.description = "a < b".into();
        c.id = "x\"onload=\"y".into();
        let svg = render(&c);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(!svg.contains("<b>"));
        assert!(!svg.contains("onload=\"y"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;co&quot;"));
        assert!(svg.contains("a &lt; b"));
    }
}
