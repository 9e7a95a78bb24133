//! `docs/plugin-guide.md` shows this crate's code: keep them the same.

#[test]
fn the_guide_shows_this_code_verbatim() {
    let guide = include_str!("../../../plugin-guide.md");
    for (file, code) in [
        ("src/lib.rs", include_str!("../src/lib.rs")),
        ("tests/harness.rs", include_str!("harness.rs")),
    ] {
        assert!(
            guide.contains(code.trim_end()),
            "docs/plugin-guide.md no longer shows docs/examples/welcome-group/{file} as it is: copy it into the guide"
        );
    }
}
