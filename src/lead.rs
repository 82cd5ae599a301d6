//! Sales leads: contacts a quiz completion placed in a tier, with a status
//! sales moves along and an owner. The list's filters come from the page's
//! address, so a view can be bookmarked and shared; reading them is here.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Contacted,
    Qualified,
    Disqualified,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 4] = [
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Qualified,
        LeadStatus::Disqualified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Disqualified => "disqualified",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            LeadStatus::New => "New",
            LeadStatus::Contacted => "Contacted",
            LeadStatus::Qualified => "Qualified",
            LeadStatus::Disqualified => "Disqualified",
        }
    }

    pub fn parse(s: &str) -> Option<LeadStatus> {
        LeadStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How the list is ordered: always newest/highest first, ties by contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadSort {
    /// Highest quiz score first.
    #[default]
    Score,
    /// Most recently active first.
    Recent,
    /// Most recently placed in the tier first.
    Entered,
}

impl LeadSort {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadSort::Score => "score",
            LeadSort::Recent => "recent",
            LeadSort::Entered => "entered",
        }
    }

    fn parse(s: &str) -> Option<LeadSort> {
        [LeadSort::Score, LeadSort::Recent, LeadSort::Entered]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Whose leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum OwnerFilter {
    #[default]
    Anyone,
    /// The signed-in user's ("my leads").
    Me,
    Nobody,
    User(i64),
}

/// Where a page starts: strictly after this lead in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeadCursor {
    /// The sort key of the last lead shown (score, or a time in ms).
    pub key: f64,
    pub contact_id: i64,
}

impl LeadCursor {
    /// `score.7.5.1234`: the sort it belongs to, the key, the contact.
    pub fn encode(&self, sort: LeadSort) -> String {
        format!("{}.{}.{}", sort.as_str(), self.key, self.contact_id)
    }

    fn decode(text: &str, sort: LeadSort) -> Option<LeadCursor> {
        let rest = text.strip_prefix(sort.as_str())?.strip_prefix('.')?;
        let (key, id) = rest.rsplit_once('.')?;
        let key: f64 = key.parse().ok().filter(|k: &f64| k.is_finite())?;
        let contact_id: i64 = id.parse().ok().filter(|i| *i > 0)?;
        Some(LeadCursor { key, contact_id })
    }
}

/// A lead list view, read from the address.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadFilter {
    /// A tier's segment slug; `None` (`tier=all`): every tier.
    pub tier: Option<String>,
    /// The members of this segment instead of the leads: the same list,
    /// where "entered" is when they entered the segment, and those who
    /// never completed a quiz have no tier and no score.
    pub segment: Option<String>,
    pub status: Option<LeadStatus>,
    pub owner: OwnerFilter,
    /// Placed in the tier from this day (UTC ms, inclusive)…
    pub placed_from: Option<i64>,
    /// …up to the end of this one.
    pub placed_until: Option<i64>,
    pub score_min: Option<f64>,
    pub score_max: Option<f64>,
    /// Part of an email, name or company.
    pub search: String,
    pub sort: LeadSort,
    pub after: Option<LeadCursor>,
}

/// A filter that cannot be read: which field, and why, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterError {
    pub field: String,
    pub message: String,
}

fn bad(field: &str, message: impl Into<String>) -> FilterError {
    FilterError {
        field: field.into(),
        message: message.into(),
    }
}

const DAY_MS: i64 = 86_400_000;

impl LeadFilter {
    /// Reads the query pairs of `/admin/leads?…`. Empty values mean "any";
    /// unknown keys are ignored; a value that cannot be meant is refused.
    pub fn from_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<LeadFilter, FilterError> {
        let mut f = LeadFilter::default();
        let mut after = None;
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key {
                "segment" => {
                    if value.len() > 64 {
                        return Err(bad("segment", "there is no such segment"));
                    }
                    f.segment = Some(value.to_string());
                }
                "tier" if value == "all" => f.tier = None,
                "tier" => {
                    if value.len() > 64 {
                        return Err(bad("tier", "there is no such tier"));
                    }
                    f.tier = Some(value.to_string());
                }
                "status" => {
                    f.status = Some(LeadStatus::parse(value).ok_or_else(|| {
                        bad(
                            "status",
                            "status is one of new, contacted, qualified or disqualified",
                        )
                    })?)
                }
                "owner" => {
                    f.owner = match value {
                        "me" => OwnerFilter::Me,
                        "none" => OwnerFilter::Nobody,
                        id => OwnerFilter::User(id.parse().ok().filter(|i| *i > 0).ok_or_else(
                            || bad("owner", "owner is me, none, or a user's number"),
                        )?),
                    }
                }
                "from" => f.placed_from = Some(day("from", value)?),
                "until" => f.placed_until = Some(day("until", value)? + DAY_MS - 1),
                "min" => f.score_min = Some(score("min", value)?),
                "max" => f.score_max = Some(score("max", value)?),
                "q" => f.search = value.chars().take(200).collect(),
                "sort" => {
                    f.sort = LeadSort::parse(value)
                        .ok_or_else(|| bad("sort", "sort by score, recent or entered"))?
                }
                "after" => after = Some(value.to_string()),
                _ => {}
            }
        }
        if let (Some(from), Some(until)) = (f.placed_from, f.placed_until)
            && from > until
        {
            return Err(bad("until", "the end date is before the start date"));
        }
        if let (Some(lo), Some(hi)) = (f.score_min, f.score_max)
            && lo > hi
        {
            return Err(bad("max", "the highest score is below the lowest"));
        }
        // Read last: the cursor belongs to one sort.
        if let Some(text) = after {
            f.after = Some(LeadCursor::decode(&text, f.sort).ok_or_else(|| {
                bad(
                    "after",
                    "this page link is damaged or belongs to another sort; start again from the first page",
                )
            })?);
        }
        Ok(f)
    }

    /// The query pairs that give this view back (without the cursor unless
    /// `with_cursor`), for links and the export.
    pub fn to_pairs(&self, with_cursor: bool) -> Vec<(&'static str, String)> {
        let mut out = vec![("tier", self.tier.clone().unwrap_or_else(|| "all".into()))];
        if let Some(s) = &self.segment {
            out.push(("segment", s.clone()));
        }
        if let Some(s) = self.status {
            out.push(("status", s.as_str().to_string()));
        }
        match self.owner {
            OwnerFilter::Anyone => {}
            OwnerFilter::Me => out.push(("owner", "me".into())),
            OwnerFilter::Nobody => out.push(("owner", "none".into())),
            OwnerFilter::User(id) => out.push(("owner", id.to_string())),
        }
        if let Some(d) = self.placed_from {
            out.push(("from", crate::time::format_iso(d)[..10].to_string()));
        }
        if let Some(d) = self.placed_until {
            out.push(("until", crate::time::format_iso(d)[..10].to_string()));
        }
        if let Some(s) = self.score_min {
            out.push(("min", s.to_string()));
        }
        if let Some(s) = self.score_max {
            out.push(("max", s.to_string()));
        }
        if !self.search.is_empty() {
            out.push(("q", self.search.clone()));
        }
        if self.sort != LeadSort::default() {
            out.push(("sort", self.sort.as_str().into()));
        }
        if with_cursor && let Some(c) = self.after {
            out.push(("after", c.encode(self.sort)));
        }
        out
    }
}

fn day(field: &str, value: &str) -> Result<i64, FilterError> {
    (value.len() == 10)
        .then(|| crate::time::parse_iso(value))
        .flatten()
        .ok_or_else(|| bad(field, "enter a date as YYYY-MM-DD"))
}

fn score(field: &str, value: &str) -> Result<f64, FilterError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite())
        .ok_or_else(|| bad(field, "enter a score as a number"))
}

/// One lead as the list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub contact_id: i64,
    pub email: Option<String>,
    pub name: Option<String>,
    pub company: Option<String>,
    pub score: f64,
    /// Category scores of the completion that placed the lead.
    pub categories: Vec<(String, f64)>,
    pub tier_slug: String,
    pub tier_name: String,
    pub next_step: String,
    pub placed_at: i64,
    pub last_seen: i64,
    pub status: LeadStatus,
    pub owner_id: Option<i64>,
    pub owner_email: Option<String>,
    /// The first visit's query parameters (UTM and others), as JSON text.
    pub hidden_fields: String,
}

impl Lead {
    /// Where this lead sits in a list ordered by `sort`.
    pub fn cursor(&self, sort: LeadSort) -> LeadCursor {
        let key = match sort {
            LeadSort::Score => self.score,
            LeadSort::Recent => self.last_seen as f64,
            LeadSort::Entered => self.placed_at as f64,
        };
        LeadCursor {
            key,
            contact_id: self.contact_id,
        }
    }

    /// A hidden field of the first visit, such as `utm_source`.
    pub fn hidden(&self, key: &str) -> Option<String> {
        let fields: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&self.hidden_fields).ok()?;
        fields.get(key)?.as_str().map(String::from)
    }
}

/// A status or owner change, with who made it and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadChange {
    pub at: i64,
    /// `None`: the playbook made it.
    pub actor_email: Option<String>,
    pub status: Option<LeadStatus>,
    /// Set when the owner changed; `owner_cleared` when it was removed.
    pub owner_email: Option<String>,
    pub owner_cleared: bool,
    pub note: String,
}

/// The most a note on a lead change may hold.
pub const MAX_NOTE: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;

    fn read(q: &str) -> Result<LeadFilter, FilterError> {
        let pairs: Vec<(&str, &str)> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
            .collect();
        LeadFilter::from_pairs(pairs)
    }

    #[test]
    fn a_view_read_from_its_address_gives_the_same_address_back() {
        let f = read("tier=fast-track&segment=hot&status=contacted&owner=me&from=2026-11-01&until=2026-11-28&min=5&max=9.5&q=acme&sort=entered").unwrap();
        assert_eq!(f.segment.as_deref(), Some("hot"));
        assert_eq!(f.tier.as_deref(), Some("fast-track"));
        assert_eq!(f.status, Some(LeadStatus::Contacted));
        assert_eq!(f.owner, OwnerFilter::Me);
        assert_eq!(
            f.placed_until.unwrap() - f.placed_from.unwrap(),
            28 * DAY_MS - 1
        );
        let back: Vec<(&str, String)> = f.to_pairs(false);
        let again = LeadFilter::from_pairs(back.iter().map(|(k, v)| (*k, v.as_str()))).unwrap();
        assert_eq!(again, f);
    }

    #[test]
    fn empty_values_mean_any_and_unknown_keys_are_ignored() {
        assert_eq!(
            read("tier=&status=&owner=&q=&utm=x").unwrap(),
            LeadFilter::default()
        );
        assert_eq!(read("tier=all").unwrap(), LeadFilter::default());
        assert_eq!(
            LeadFilter::default().to_pairs(true),
            [("tier", "all".to_string())]
        );
    }

    #[test]
    fn values_that_cannot_be_meant_name_their_field() {
        for (q, field) in [
            ("status=won", "status"),
            ("owner=someone", "owner"),
            ("owner=-3", "owner"),
            ("from=28/11/2026", "from"),
            ("until=2026-02-30", "until"),
            ("from=2026-11-28T10:00:00Z", "from"),
            ("min=lots", "min"),
            ("max=NaN", "max"),
            ("sort=name", "sort"),
            ("from=2026-11-28&until=2026-11-01", "until"),
            ("min=9&max=3", "max"),
            ("after=garbage", "after"),
            ("after=recent.5.10", "after"),
            ("sort=recent&after=recent.5.-10", "after"),
        ] {
            assert_eq!(read(q).unwrap_err().field, field, "{q}");
        }
    }

    #[test]
    fn a_cursor_round_trips_within_its_sort() {
        for (sort, key) in [
            (LeadSort::Score, 7.25),
            (LeadSort::Recent, 1_764_000_000_123.0),
            (LeadSort::Entered, 0.0),
        ] {
            let c = LeadCursor {
                key,
                contact_id: 42,
            };
            let text = c.encode(sort);
            let f = read(&format!("sort={}&after={text}", sort.as_str())).unwrap();
            assert_eq!(f.after, Some(c), "{text}");
        }
    }
}
