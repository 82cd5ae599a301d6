//! The Markdown of result pages, the small part marketers write: paragraphs,
//! bulleted lists, `**bold**`, `*emphasis*` and `[links](https://…)`. It
//! is read into a tree, never into HTML, so whatever a body contains can
//! only ever show as text.

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Paragraph(Vec<Inline>),
    List(Vec<Vec<Inline>>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Inline {
    Text(String),
    Strong(String),
    Emphasis(String),
    /// Only `http(s)://`, `mailto:` and site-relative `/…` addresses become
    /// links; anything else stays text.
    Link {
        text: String,
        url: String,
    },
}

pub fn parse(source: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    for chunk in source.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<&str> = chunk
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if lines.is_empty() {
            continue;
        }
        let item = |l: &str| {
            l.strip_prefix("- ")
                .or_else(|| l.strip_prefix("* "))
                .map(str::to_string)
        };
        if lines.iter().all(|l| item(l).is_some()) {
            blocks.push(Block::List(
                lines
                    .iter()
                    .filter_map(|l| item(l))
                    .map(|l| inline(&l))
                    .collect(),
            ));
        } else {
            blocks.push(Block::Paragraph(inline(&lines.join(" "))));
        }
    }
    blocks
}

fn safe_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (url.starts_with('/') && !url.starts_with("//"))
}

fn inline(text: &str) -> Vec<Inline> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let flush = |plain: &mut String, out: &mut Vec<Inline>| {
        if !plain.is_empty() {
            out.push(Inline::Text(std::mem::take(plain)));
        }
    };
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("**")
            && let Some(end) = after.find("**").filter(|&e| e > 0)
        {
            flush(&mut plain, &mut out);
            out.push(Inline::Strong(after[..end].to_string()));
            rest = &after[end + 2..];
            continue;
        }
        if let Some(after) = rest.strip_prefix('*')
            && let Some(end) = after.find('*').filter(|&e| e > 0)
        {
            flush(&mut plain, &mut out);
            out.push(Inline::Emphasis(after[..end].to_string()));
            rest = &after[end + 1..];
            continue;
        }
        if let Some(after) = rest.strip_prefix('[')
            && let Some(close) = after.find("](")
            && let Some(end) = after[close + 2..].find(')')
        {
            let text = &after[..close];
            let url = after[close + 2..close + 2 + end].trim();
            if !text.is_empty() && safe_url(url) {
                flush(&mut plain, &mut out);
                out.push(Inline::Link {
                    text: text.to_string(),
                    url: url.to_string(),
                });
                rest = &after[close + 3 + end..];
                continue;
            }
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut plain, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Inline {
        Inline::Text(s.into())
    }

    #[test]
    fn paragraphs_lists_and_inline_marks() {
        let blocks = parse(
            "Start **small**, grow *fast*.\nSee [the guide](https://example.com/g).\n\n- one\n- *two*",
        );
        assert_eq!(
            blocks,
            vec![
                Block::Paragraph(vec![
                    text("Start "),
                    Inline::Strong("small".into()),
                    text(", grow "),
                    Inline::Emphasis("fast".into()),
                    text(". See "),
                    Inline::Link {
                        text: "the guide".into(),
                        url: "https://example.com/g".into()
                    },
                    text("."),
                ]),
                Block::List(vec![
                    vec![text("one")],
                    vec![Inline::Emphasis("two".into())]
                ]),
            ]
        );
    }

    #[test]
    fn unsafe_links_and_unclosed_marks_stay_text() {
        assert_eq!(
            parse("[x](javascript:alert(1)) and **open and //host"),
            vec![Block::Paragraph(vec![text(
                "[x](javascript:alert(1)) and **open and //host"
            )])]
        );
        assert_eq!(
            parse("[x](//evil.example)"),
            vec![Block::Paragraph(vec![text("[x](//evil.example)")])]
        );
        assert_eq!(
            parse("<script>alert(1)</script>"),
            vec![Block::Paragraph(vec![text("<script>alert(1)</script>")])]
        );
        assert_eq!(parse("\n\n  \n"), vec![]);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_without_losing_letters(s in "\\PC{0,200}") {
            let letters = |t: &str| t.chars().filter(|c| c.is_alphanumeric()).count();
            let kept: usize = parse(&s)
                .iter()
                .flat_map(|b| match b {
                    Block::Paragraph(i) => i.clone(),
                    Block::List(items) => items.concat(),
                })
                .map(|i| match i {
                    Inline::Text(t) | Inline::Strong(t) | Inline::Emphasis(t) => letters(&t),
                    Inline::Link { text, url } => letters(&text) + letters(&url),
                })
                .sum();
            proptest::prop_assert_eq!(kept, letters(&s));
        }
    }
}
