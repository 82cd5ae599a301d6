//! What happens when a contact enters a segment: a signed webhook, a sales
//! handoff, a tag. The rules here are pure: which webhook addresses may be
//! called, and when a failed delivery is tried again.

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One action of a segment, as the editor lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentAction {
    pub id: i64,
    pub segment_id: i64,
    pub kind: ActionKind,
    /// Where the webhook goes (webhooks; optional for handoffs).
    pub url: Option<String>,
    /// The key the receiver checks signatures with.
    pub secret: Option<String>,
    /// The tag given (tag actions).
    pub tag: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// POST a signed JSON body to a URL.
    Webhook,
    /// Give the contact an owner among the sales users, in turn, and tell
    /// a URL when one is set.
    Handoff,
    /// Tag the contact.
    Tag,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::Webhook => "webhook",
            ActionKind::Handoff => "handoff",
            ActionKind::Tag => "tag",
        }
    }

    pub fn parse(s: &str) -> Option<ActionKind> {
        match s {
            "webhook" => Some(ActionKind::Webhook),
            "handoff" => Some(ActionKind::Handoff),
            "tag" => Some(ActionKind::Tag),
            _ => None,
        }
    }
}

/// An action as the marketer asks for it, before it is checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAction {
    pub kind: ActionKind,
    pub url: Option<String>,
    pub tag: Option<String>,
}

/// Where a webhook goes, read from its URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    pub url: String,
    pub host: String,
    pub port: u16,
}

const MAX_URL: usize = 2000;
const MAX_TAG: usize = 60;

/// Reads a webhook URL: `http` or `https`, a host, no user name or
/// password. Hosts that name this machine or a private network by
/// themselves (`localhost`, `10.0.0.5`, `[::1]`) are refused unless
/// `allow_private`; names that resolve to such addresses are checked when
/// they are resolved (see [`is_private`]).
pub fn check_webhook_url(raw: &str, allow_private: bool) -> Result<WebhookTarget, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Err("Give the webhook's URL.".into());
    }
    if url.len() > MAX_URL {
        return Err(format!("The URL is longer than {MAX_URL} characters."));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("The URL cannot contain spaces.".into());
    }
    let lower = url.to_ascii_lowercase();
    let (rest, default_port) = if let Some(rest) = lower.strip_prefix("https://") {
        (&url[url.len() - rest.len()..], 443)
    } else if let Some(rest) = lower.strip_prefix("http://") {
        (&url[url.len() - rest.len()..], 80)
    } else {
        return Err("The URL must start with https:// or http://.".into());
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err("The URL cannot carry a user name or password.".into());
    }
    let (host, port) = split_host_port(authority)?;
    let port = port.unwrap_or(default_port);
    if host.is_empty() {
        return Err("The URL has no host.".into());
    }
    let host = host.to_ascii_lowercase();
    if !allow_private && names_private_host(&host) {
        return Err(format!(
            "{host} is this machine or a private network; allow private addresses in Settings to call it."
        ));
    }
    Ok(WebhookTarget {
        url: url.to_string(),
        host,
        port,
    })
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let bad_port = || "The URL's port is not a number from 1 to 65535.".to_string();
    let parse_port = |p: &str| match p.parse::<u16>() {
        Ok(0) | Err(_) => Err(bad_port()),
        Ok(n) => Ok(Some(n)),
    };
    if let Some(v6) = authority.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err("The URL's address is missing its closing ].".into());
        };
        if host.parse::<Ipv6Addr>().is_err() {
            return Err("The URL's address in [ ] is not an IPv6 address.".into());
        }
        return match after.strip_prefix(':') {
            Some(p) => Ok((host, parse_port(p)?)),
            None if after.is_empty() => Ok((host, None)),
            None => Err(bad_port()),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, p)) => Ok((host, parse_port(p)?)),
        None => Ok((authority, None)),
    }
}

/// A host name that is an address of this machine or a private network on
/// its face, before any lookup.
fn names_private_host(host: &str) -> bool {
    let host = host.trim_end_matches('.');
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    host.parse::<IpAddr>().is_ok_and(is_private)
}

/// Addresses a webhook must not reach unless private addresses are allowed:
/// this machine, private and shared networks, link-local (where cloud
/// metadata services live), and the unspecified address.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => private_v4(v4),
            None => {
                let first = v6.segments()[0];
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (first & 0xfe00) == 0xfc00
                    || (first & 0xffc0) == 0xfe80
            }
        },
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
}

/// A tag as stored: trimmed, 1 to 60 characters, no control characters.
pub fn check_tag(raw: &str) -> Result<String, String> {
    let tag = raw.trim();
    if tag.is_empty() {
        return Err("Give the tag to add.".into());
    }
    if tag.chars().count() > MAX_TAG {
        return Err(format!("A tag has at most {MAX_TAG} characters."));
    }
    if tag.chars().any(char::is_control) {
        return Err("A tag cannot contain control characters.".into());
    }
    Ok(tag.to_string())
}

/// How long failed deliveries are tried again, counted from the first try.
pub const RETRY_FOR_MS: i64 = 24 * 3_600_000;
const FIRST_RETRY_MS: i64 = 30_000;
const LONGEST_WAIT_MS: i64 = 3_600_000;

/// When to try a delivery again after its `attempts`-th failure at `now`:
/// 30 s, then twice as long each time up to an hour, until `give_up_at`.
/// `None`: stop, the delivery has failed.
pub fn retry_at(attempts: u32, now: i64, give_up_at: i64) -> Option<i64> {
    let doublings = attempts.saturating_sub(1).min(20);
    let wait = (FIRST_RETRY_MS << doublings).min(LONGEST_WAIT_MS);
    let next = now.saturating_add(wait);
    (next <= give_up_at).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(url: &str) -> Result<(String, u16), String> {
        check_webhook_url(url, false).map(|t| (t.host, t.port))
    }

    #[test]
    fn webhook_urls_need_http_or_https_and_a_host() {
        assert_eq!(
            host("https://crm.example.com/hook"),
            Ok(("crm.example.com".into(), 443))
        );
        assert_eq!(
            host("HTTP://Crm.Example.com:8080?x=1"),
            Ok(("crm.example.com".into(), 8080))
        );
        for bad in [
            "",
            "ftp://example.com/",
            "javascript:alert(1)",
            "https://",
            "https://user:pw@example.com/",
            "https://example.com:0/",
            "https://example.com:99999/",
            "https://exa mple.com/",
            "https://[::1/",
        ] {
            assert!(host(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn private_and_loopback_hosts_are_refused_unless_allowed() {
        for private in [
            "http://localhost/",
            "http://api.localhost/",
            "http://127.0.0.1:3000/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://169.254.169.254/latest/meta-data",
            "http://0.0.0.0/",
            "http://100.64.0.1/",
            "http://[::1]:8080/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://[::ffff:127.0.0.1]/",
        ] {
            let refused = check_webhook_url(private, false).unwrap_err();
            assert!(
                refused.contains("allow private addresses"),
                "{private}: {refused}"
            );
            assert!(
                check_webhook_url(private, true).is_ok(),
                "{private} refused when allowed"
            );
        }
        for public in [
            "http://93.184.216.34/",
            "https://[2606:4700::1]/",
            "https://172.32.0.1/",
        ] {
            assert!(check_webhook_url(public, false).is_ok(), "{public} refused");
        }
    }

    #[test]
    fn retries_double_from_30_seconds_up_to_an_hour_for_a_day() {
        let start = 1_000_000;
        let give_up = start + RETRY_FOR_MS;
        assert_eq!(retry_at(1, start, give_up), Some(start + 30_000));
        assert_eq!(retry_at(2, start, give_up), Some(start + 60_000));
        assert_eq!(retry_at(8, start, give_up), Some(start + 3_600_000));
        assert_eq!(retry_at(40, start, give_up), Some(start + 3_600_000));
        assert_eq!(retry_at(3, give_up - 1000, give_up), None);
        // Tried until the day is out: every wait fits, then it stops.
        let (mut now, mut attempts) = (start, 0);
        while let Some(next) = retry_at(attempts + 1, now, give_up) {
            attempts += 1;
            now = next;
        }
        assert!(now <= give_up && give_up - now < LONGEST_WAIT_MS);
        assert!((25..40).contains(&attempts), "{attempts} retries in a day");
    }

    #[test]
    fn tags_are_trimmed_and_bounded() {
        assert_eq!(check_tag("  vip "), Ok("vip".into()));
        assert!(check_tag("   ").is_err());
        assert!(check_tag(&"x".repeat(61)).is_err());
        assert!(check_tag("a\u{7}b").is_err());
    }
}
