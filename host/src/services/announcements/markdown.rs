//! An announcement's body: Markdown as written, rendered to HTML that is
//! safe to put in a page or an e-mail, and to plain text for the e-mail's
//! text part.
//!
//! Rendering never fails and never lets raw HTML through: pulldown-cmark
//! turns the Markdown into HTML (raw HTML blocks included, which is why the
//! second step exists), ammonia keeps only an allow-list of tags and
//! attributes and only http, https and mailto links, each made
//! `rel="noopener noreferrer"`.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// The body as sanitised HTML.
pub fn render_html(markdown: &str) -> String {
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options()));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer"))
        .clean(&unsafe_html)
        .to_string()
}

/// The body as plain text for an e-mail's text part: the words of the
/// Markdown without its markup, paragraphs apart, list items on lines of
/// their own, a link followed by its address. Raw HTML tags are dropped,
/// the text between them kept.
pub fn render_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    let mut link: Vec<String> = Vec::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(text) | Event::Code(text) => out.push_str(&text),
            Event::SoftBreak => out.push(' '),
            Event::HardBreak => out.push('\n'),
            Event::Start(Tag::Item) => out.push_str("- "),
            Event::Start(Tag::Link { dest_url, .. }) => link.push(dest_url.to_string()),
            Event::End(TagEnd::Link) => {
                if let Some(url) = link.pop() {
                    out.push_str(" <");
                    out.push_str(&url);
                    out.push('>');
                }
            }
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::CodeBlock) => {
                out.push_str("\n\n")
            }
            Event::End(TagEnd::Item | TagEnd::TableRow | TagEnd::List(_)) => out.push('\n'),
            Event::End(TagEnd::TableCell) => out.push('\t'),
            Event::Rule => out.push_str("----\n\n"),
            _ => {}
        }
    }
    let trimmed = out.trim_end().len();
    out.truncate(trimmed);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = render_html(
            "# Deadline\n\nThe **compliance** deadline moved to *Friday*.\n\n- one\n- two",
        );
        assert!(html.contains("<h1>Deadline</h1>"), "{html}");
        assert!(html.contains("<strong>compliance</strong>"), "{html}");
        assert!(html.contains("<em>Friday</em>"), "{html}");
        assert!(html.contains("<li>one</li>"), "{html}");
    }

    #[test]
    fn no_raw_html_or_script_passes() {
        for hostile in [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "[click](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<iframe src=\"https://evil.example\"></iframe>",
            "<div style=\"position:fixed\">x</div>",
            "<svg onload=alert(1)>",
        ] {
            let html = render_html(hostile);
            for bad in [
                "<script",
                "onerror",
                "javascript:",
                "<iframe",
                "style=",
                "onload",
            ] {
                assert!(!html.contains(bad), "{hostile:?} rendered as {html:?}");
            }
        }
    }

    #[test]
    fn links_are_kept_and_made_noopener() {
        let html = render_html("See [the policy](https://example.com/policy).");
        assert!(
            html.contains(r#"<a href="https://example.com/policy" rel="noopener noreferrer">"#),
            "{html}"
        );
    }

    #[test]
    fn plain_text_keeps_the_words_and_link_addresses() {
        let text = render_text(
            "# Deadline\n\nThe **deadline** moved.\n\n- one\n- two\n\nSee [policy](https://example.com/p).<b>x</b>",
        );
        assert_eq!(
            text,
            "Deadline\n\nThe deadline moved.\n\n- one\n- two\n\nSee policy <https://example.com/p>.x\n"
        );
    }
}
