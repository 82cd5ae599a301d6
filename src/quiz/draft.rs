//! What must hold before a draft can be saved at all. Publishing asks more
//! (see `publish`); saving only refuses what would store nonsense: bad keys,
//! duplicates, malformed colors and links, runaway sizes.
//!
//! Each error names the builder field it belongs next to, by the id that
//! field has on the page: `quiz-title`, `q2-key`, `q2-opt0-label`, `out1-cta-url`…

use super::answer::FieldError;
use super::model::{Condition, OutcomeRule, QuestionKind, QuizDefinition, Target};
use super::slug::check_key;
use std::collections::{BTreeMap, BTreeSet};

/// The key of the contact step the lead gate adds when the quiz has no
/// question of its own for the details: no question may take it.
pub const LEAD_STEP: &str = "lead";

pub const MAX_QUESTIONS: usize = 100;
pub const MAX_OPTIONS: usize = 50;
pub const MAX_OUTCOMES: usize = 50;
pub const MAX_BRANCHES: usize = 20;
pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_PROMPT_LEN: usize = 500;
pub const MAX_LONG_TEXT_LEN: usize = 20_000;
pub const MAX_URL_LEN: usize = 2_000;
/// Scales run within ±this.
pub const MAX_SCALE: i64 = 1_000;

fn err(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn too_long(field: String, text: &str, max: usize, what: &str) -> Result<(), FieldError> {
    if text.chars().count() > max {
        Err(err(
            field,
            format!("{what} can be at most {max} characters"),
        ))
    } else {
        Ok(())
    }
}

/// Whether `color` is `#rrggbb`.
pub fn is_hex_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].chars().all(|c| c.is_ascii_hexdigit())
}

/// An absolute http(s) link, or a path on this site when `paths` is set.
pub fn check_link(url: &str, paths: bool) -> Result<(), String> {
    let ok = url.starts_with("https://")
        || url.starts_with("http://")
        || (paths && url.starts_with('/') && !url.starts_with("//"));
    if url.chars().count() > MAX_URL_LEN {
        Err(format!("a link can be at most {MAX_URL_LEN} characters"))
    } else if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("a link cannot contain spaces".into())
    } else if !ok {
        Err(if paths {
            "the link must start with https://, http:// or /".into()
        } else {
            "the link must start with https:// or http://".into()
        })
    } else {
        Ok(())
    }
}

/// The first reason this draft cannot be saved, if any.
pub fn check_draft(def: &QuizDefinition) -> Result<(), FieldError> {
    if def.title.trim().is_empty() {
        return Err(err("quiz-title", "give the quiz a title"));
    }
    too_long("quiz-title".into(), &def.title, MAX_TITLE_LEN, "a title")?;
    too_long(
        "quiz-intro".into(),
        &def.intro,
        MAX_LONG_TEXT_LEN,
        "the intro",
    )?;
    if !is_hex_color(&def.theme.brand_color) {
        return Err(err(
            "quiz-brand-color",
            "use a color like #4338ca (# and six hex digits)",
        ));
    }
    if !def.theme.logo_url.is_empty() {
        check_link(&def.theme.logo_url, false).map_err(|m| err("quiz-logo-url", m))?;
    }
    if def.questions.len() > MAX_QUESTIONS {
        return Err(err(
            "quiz",
            format!("a quiz can have at most {MAX_QUESTIONS} questions"),
        ));
    }
    let mut keys = BTreeSet::new();
    for (i, q) in def.questions.iter().enumerate() {
        let f = |name: &str| format!("q{i}-{name}");
        check_key(&q.key).map_err(|m| err(f("key"), m))?;
        if q.key == LEAD_STEP {
            return Err(err(
                f("key"),
                format!(
                    "\"{LEAD_STEP}\" is the key of the contact step the lead gate adds; choose another"
                ),
            ));
        }
        if !keys.insert(q.key.as_str()) {
            return Err(err(
                f("key"),
                format!("another question already uses the key \"{}\"", q.key),
            ));
        }
        too_long(f("prompt"), &q.prompt, MAX_PROMPT_LEN, "a question")?;
        too_long(f("help"), &q.help, MAX_PROMPT_LEN, "help text")?;
        if let QuestionKind::Scale { min, max } = q.kind
            && (min.abs() > MAX_SCALE || max.abs() > MAX_SCALE)
        {
            return Err(err(
                f("scale-min"),
                format!("a scale runs within -{MAX_SCALE} to {MAX_SCALE}"),
            ));
        }
        if let QuestionKind::Contact { fields } = &q.kind
            && fields.is_empty()
        {
            return Err(err(f("fields"), "ask for at least one contact detail"));
        }
        if q.options.len() > MAX_OPTIONS {
            return Err(err(
                f("options"),
                format!("a question can have at most {MAX_OPTIONS} options"),
            ));
        }
        let mut option_keys = BTreeSet::new();
        for (j, o) in q.options.iter().enumerate() {
            let g = |name: &str| format!("q{i}-opt{j}-{name}");
            check_key(&o.key).map_err(|m| err(g("key"), m))?;
            if !option_keys.insert(o.key.as_str()) {
                return Err(err(
                    g("key"),
                    format!("another option of this question uses the key \"{}\"", o.key),
                ));
            }
            too_long(g("label"), &o.label, MAX_PROMPT_LEN, "an option")?;
            if !o.points.is_finite() || o.points.abs() > 1e6 {
                return Err(err(g("points"), "points must be a number"));
            }
            for (category, points) in &o.category_points {
                check_key(category).map_err(|m| err(g("categories"), format!("category {m}")))?;
                if !points.is_finite() || points.abs() > 1e6 {
                    return Err(err(g("categories"), "category points must be numbers"));
                }
            }
            for tag in &o.tags {
                check_key(tag).map_err(|m| err(g("tags"), format!("tag {m}")))?;
            }
        }
        if q.branches.len() > MAX_BRANCHES {
            return Err(err(
                f("branches"),
                format!("a question can have at most {MAX_BRANCHES} branches"),
            ));
        }
    }
    if def.outcomes.len() > MAX_OUTCOMES {
        return Err(err(
            "quiz",
            format!("a quiz can have at most {MAX_OUTCOMES} outcomes"),
        ));
    }
    let mut keys = BTreeSet::new();
    for (i, o) in def.outcomes.iter().enumerate() {
        let f = |name: &str| format!("out{i}-{name}");
        check_key(&o.key).map_err(|m| err(f("key"), m))?;
        if !keys.insert(o.key.as_str()) {
            return Err(err(
                f("key"),
                format!("another outcome already uses the key \"{}\"", o.key),
            ));
        }
        too_long(f("title"), &o.title, MAX_TITLE_LEN, "a title")?;
        too_long(f("body"), &o.body_markdown, MAX_LONG_TEXT_LEN, "the text")?;
        too_long(
            f("cta-label"),
            &o.cta_label,
            MAX_TITLE_LEN,
            "a button label",
        )?;
        if !o.cta_url.is_empty() {
            check_link(&o.cta_url, true).map_err(|m| err(f("cta-url"), m))?;
        }
        match &o.rule {
            OutcomeRule::ScoreRange { min, max } if !(min.is_finite() && max.is_finite()) => {
                return Err(err(f("rule"), "a score range needs two numbers"));
            }
            OutcomeRule::TopCategory { category } => {
                check_key(category).map_err(|m| err(f("rule"), format!("category {m}")))?
            }
            OutcomeRule::Tier { segment } if segment.trim().is_empty() => {
                return Err(err(f("rule"), "name the segment of the tier"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Reads "budget: 3, urgency: 1" (per-category points of an option).
pub fn parse_category_points(raw: &str) -> Result<BTreeMap<String, f64>, String> {
    let mut out = BTreeMap::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (category, points) = part
            .split_once(':')
            .ok_or_else(|| format!("write \"{part}\" as category: points, e.g. budget: 3"))?;
        let category = category.trim();
        check_key(category).map_err(|m| format!("category {m}"))?;
        let points: f64 = points
            .trim()
            .parse()
            .ok()
            .filter(|p: &f64| p.is_finite())
            .ok_or_else(|| format!("the points of \"{category}\" must be a number"))?;
        out.insert(category.to_string(), points);
    }
    Ok(out)
}

/// Writes per-category points the way `parse_category_points` reads them.
pub fn format_category_points(points: &BTreeMap<String, f64>) -> String {
    points
        .iter()
        .map(|(c, p)| format!("{c}: {p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads "hot, enterprise" (the tags of an option).
pub fn parse_tags(raw: &str) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for tag in raw.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        check_key(tag).map_err(|m| format!("tag {m}"))?;
        if !out.iter().any(|t| t == tag) {
            out.push(tag.to_string());
        }
    }
    Ok(out)
}

impl QuizDefinition {
    /// Renames a question and every branch that refers to it.
    pub fn rename_question(&mut self, old: &str, new: &str) {
        fn rename(c: &mut Condition, old: &str, new: &str) {
            match c {
                Condition::All { conditions } | Condition::Any { conditions } => {
                    conditions.iter_mut().for_each(|c| rename(c, old, new))
                }
                Condition::Chose { question, .. }
                | Condition::AtLeast { question, .. }
                | Condition::AtMost { question, .. } => {
                    if question == old {
                        *question = new.to_string();
                    }
                }
            }
        }
        for q in &mut self.questions {
            if q.key == old {
                q.key = new.to_string();
            }
            for b in &mut q.branches {
                rename(&mut b.when, old, new);
                if b.goto == Target::Question(old.to_string()) {
                    b.goto = Target::Question(new.to_string());
                }
            }
        }
    }
}

impl Condition {
    /// The condition as the builder edits it: an AND or OR group of simple
    /// tests. A lone test becomes a group of one.
    pub fn as_group(&self) -> Condition {
        match self {
            Condition::All { .. } | Condition::Any { .. } => self.clone(),
            simple => Condition::All {
                conditions: vec![simple.clone()],
            },
        }
    }

    /// "stage is idea or seed and urgency ≥ 4", for summaries.
    pub fn describe(&self) -> String {
        match self {
            Condition::All { conditions } if conditions.is_empty() => "always".into(),
            Condition::Any { conditions } if conditions.is_empty() => "never".into(),
            Condition::All { conditions } | Condition::Any { conditions } => {
                let joiner = if matches!(self, Condition::All { .. }) {
                    " and "
                } else {
                    " or "
                };
                let parts: Vec<String> = conditions
                    .iter()
                    .map(|c| match c {
                        Condition::All { .. } | Condition::Any { .. } => {
                            format!("({})", c.describe())
                        }
                        _ => c.describe(),
                    })
                    .collect();
                parts.join(joiner)
            }
            Condition::Chose { question, options } => {
                format!("{question} is {}", options.join(" or "))
            }
            Condition::AtLeast { question, value } => format!("{question} ≥ {value}"),
            Condition::AtMost { question, value } => format!("{question} ≤ {value}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quiz::demo::growth_quiz;
    use crate::quiz::validate_for_publish;

    fn field_of(def: &QuizDefinition) -> String {
        check_draft(def).unwrap_err().field
    }

    #[test]
    fn the_demo_quiz_can_be_saved() {
        assert_eq!(check_draft(&growth_quiz()), Ok(()));
    }

    #[test]
    fn a_bad_question_key_is_named_by_its_field() {
        let mut def = growth_quiz();
        def.questions[2].key = "Budget Size".into();
        assert_eq!(field_of(&def), "q2-key");
        def.questions[2].key = def.questions[0].key.clone();
        let e = check_draft(&def).unwrap_err();
        assert_eq!(e.field, "q2-key");
        assert!(e.message.contains("another question"), "{e:?}");
        // The lead gate's own step would take the question's place.
        def.questions[2].key = LEAD_STEP.into();
        let e = check_draft(&def).unwrap_err();
        assert_eq!(e.field, "q2-key");
        assert!(e.message.contains("lead gate"), "{e:?}");
    }

    #[test]
    fn duplicate_option_keys_and_bad_points_are_refused() {
        let mut def = growth_quiz();
        def.questions[0].options[1].key = def.questions[0].options[0].key.clone();
        assert_eq!(field_of(&def), "q0-opt1-key");
        let mut def = growth_quiz();
        def.questions[0].options[2].points = f64::NAN;
        assert_eq!(field_of(&def), "q0-opt2-points");
    }

    #[test]
    fn colors_and_links_must_be_well_formed() {
        let mut def = growth_quiz();
        def.theme.brand_color = "blue".into();
        assert_eq!(field_of(&def), "quiz-brand-color");
        let mut def = growth_quiz();
        def.theme.logo_url = "javascript:alert(1)".into();
        assert_eq!(field_of(&def), "quiz-logo-url");
        let mut def = growth_quiz();
        def.outcomes[0].cta_url = "//evil.example".into();
        assert_eq!(field_of(&def), "out0-cta-url");
        def.outcomes[0].cta_url = "/book-a-call".into();
        assert_eq!(check_draft(&def), Ok(()));
    }

    #[test]
    fn an_untitled_quiz_cannot_be_saved() {
        let mut def = growth_quiz();
        def.title = "  ".into();
        assert_eq!(field_of(&def), "quiz-title");
    }

    #[test]
    fn a_lone_test_is_edited_as_a_group_of_one() {
        let chose = Condition::Chose {
            question: "stage".into(),
            options: vec!["idea".into(), "seed".into()],
        };
        let group = chose.as_group();
        assert_eq!(
            group,
            Condition::All {
                conditions: vec![chose.clone()]
            }
        );
        assert_eq!(group.as_group(), group);
        let either = Condition::Any {
            conditions: vec![
                chose,
                Condition::AtLeast {
                    question: "urgency".into(),
                    value: 4,
                },
            ],
        };
        assert_eq!(either.describe(), "stage is idea or seed or urgency ≥ 4");
    }
    #[test]
    fn category_points_read_and_write_the_same_way() {
        let points = parse_category_points("budget: 3, urgency:-1.5,").unwrap();
        assert_eq!(points["budget"], 3.0);
        assert_eq!(points["urgency"], -1.5);
        assert_eq!(format_category_points(&points), "budget: 3, urgency: -1.5");
        assert_eq!(
            parse_category_points(&format_category_points(&points)),
            Ok(points)
        );
        assert!(parse_category_points("budget 3").is_err());
        assert!(parse_category_points("Budget: 3").is_err());
        assert!(parse_category_points("budget: lots").is_err());
        assert_eq!(parse_category_points(" "), Ok(BTreeMap::new()));
    }

    #[test]
    fn tags_are_keys_listed_once() {
        assert_eq!(
            parse_tags("hot, enterprise, hot"),
            Ok(vec!["hot".into(), "enterprise".into()])
        );
        assert!(parse_tags("Very Hot").is_err());
    }

    #[test]
    fn renaming_a_question_follows_its_branches() {
        let mut def = growth_quiz();
        def.rename_question("stage", "phase");
        def.rename_question("channels", "paths");
        assert_eq!(def.questions[0].key, "phase");
        let branch = &def.questions[0].branches[0];
        assert_eq!(branch.goto, Target::Question("paths".into()));
        assert!(matches!(&branch.when, Condition::Chose { question, .. } if question == "phase"));
        assert_eq!(validate_for_publish(&def), vec![]);
    }
}
