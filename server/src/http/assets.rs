//! The built script, WebAssembly and stylesheet under `/pkg`, from memory
//! and gzipped for the browsers that accept it.
//!
//! The WebAssembly is most of what a phone downloads for a quiz (several
//! megabytes, about a third of that gzipped). Each file is read once, and
//! gzipped once in the background after its first request, so no request
//! waits for the compression; until it is ready the file goes out as it is.
//! The names carry no hash of the content, so browsers revalidate each
//! file with its ETag and get a 304 while the build is unchanged.

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

/// Files smaller than this gain too little from compression to bother.
const GZIP_FROM: usize = 1024;

#[derive(Default)]
pub struct Assets {
    files: Mutex<HashMap<String, Arc<Asset>>>,
}

struct Asset {
    /// The file's size and modification time when read: a rebuild changes
    /// them, and then the file is read again.
    stamp: (u64, Option<SystemTime>),
    etag: HeaderValue,
    body: Bytes,
    gzip: OnceLock<Bytes>,
    gzip_started: std::sync::Once,
}

fn content_type(name: &str) -> Option<&'static str> {
    Some(match name.rsplit_once('.')?.1 {
        "wasm" => "application/wasm",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "map" | "json" => "application/json",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "png" => "image/png",
        "woff2" => "font/woff2",
        _ => return None,
    })
}

fn compresses(name: &str) -> bool {
    [".wasm", ".js", ".css", ".map", ".json", ".svg"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// `GET /pkg/{file}`: only plain names of known kinds, so nothing outside
/// the directory can be named.
pub async fn pkg(
    State(state): State<super::AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "No such file.").into_response();
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    let Some(kind) = content_type(&name).filter(|_| plain) else {
        return not_found();
    };
    let path = PathBuf::from(state.leptos_options.site_root.as_ref())
        .join(state.leptos_options.site_pkg_dir.as_ref())
        .join(&name);
    let Some(asset) = state.assets.get(&name, path).await else {
        return not_found();
    };
    let mut res = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|tags| etag_listed(tags.as_bytes(), asset.etag.as_bytes()))
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else if compresses(&name) && asset.body.len() >= GZIP_FROM && accepts_gzip(&headers) {
        match asset.gzip.get() {
            Some(gzip) => {
                let mut res = Body::from(gzip.clone()).into_response();
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                res
            }
            None => {
                compress_in_background(&asset);
                Body::from(asset.body.clone()).into_response()
            }
        }
    } else {
        Body::from(asset.body.clone()).into_response()
    };
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    h.insert(header::ETAG, asset.etag.clone());
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    res
}

impl Assets {
    /// The file as last read, read again when it changed on disk; `None`
    /// when there is no such file.
    async fn get(&self, name: &str, path: PathBuf) -> Option<Arc<Asset>> {
        let meta = tokio::fs::metadata(&path)
            .await
            .ok()
            .filter(|m| m.is_file())?;
        let stamp = (meta.len(), meta.modified().ok());
        if let Some(asset) = self.files.lock().ok()?.get(name)
            && asset.stamp == stamp
        {
            return Some(asset.clone());
        }
        let body = Bytes::from(tokio::fs::read(&path).await.ok()?);
        let since_epoch = stamp
            .1
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let etag = HeaderValue::from_str(&format!("\"{:x}-{since_epoch:x}\"", body.len())).ok()?;
        let asset = Arc::new(Asset {
            stamp,
            etag,
            body,
            gzip: OnceLock::new(),
            gzip_started: std::sync::Once::new(),
        });
        self.files
            .lock()
            .ok()?
            .insert(name.to_string(), asset.clone());
        Some(asset)
    }
}

fn compress_in_background(asset: &Arc<Asset>) {
    asset.gzip_started.call_once(|| {
        let asset = asset.clone();
        tokio::task::spawn_blocking(move || {
            let mut gz = flate2::write::GzEncoder::new(
                Vec::with_capacity(asset.body.len() / 3),
                flate2::Compression::best(),
            );
            match gz.write_all(&asset.body).and_then(|()| gz.finish()) {
                Ok(done) => {
                    let _ = asset.gzip.set(Bytes::from(done));
                }
                Err(e) => tracing::warn!(error = %e, "could not gzip a built file"),
            }
        });
    });
}

/// Whether `Accept-Encoding` takes gzip (and not with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// Whether an `If-None-Match` list names `etag` (or is `*`); a weak
/// validator matches too, as the comparison for a GET is weak.
fn etag_listed(list: &[u8], etag: &[u8]) -> bool {
    let Ok(list) = std::str::from_utf8(list) else {
        return false;
    };
    let etag = std::str::from_utf8(etag).unwrap_or("");
    list.split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
        h
    }

    #[test]
    fn gzip_is_sent_only_where_accepted() {
        assert!(accepts_gzip(&with(
            "accept-encoding",
            "gzip, deflate, br, zstd"
        )));
        assert!(accepts_gzip(&with(
            "accept-encoding",
            "br;q=1.0, GZIP;q=0.5"
        )));
        assert!(accepts_gzip(&with("accept-encoding", "*")));
        assert!(!accepts_gzip(&with("accept-encoding", "gzip;q=0, br")));
        assert!(!accepts_gzip(&with("accept-encoding", "identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn if_none_match_lists_are_read_weakly() {
        assert!(etag_listed(b"\"a-1\"", b"\"a-1\""));
        assert!(etag_listed(b"\"x\", W/\"a-1\"", b"\"a-1\""));
        assert!(etag_listed(b"*", b"\"a-1\""));
        assert!(!etag_listed(b"\"a-2\"", b"\"a-1\""));
    }

    #[test]
    fn only_known_kinds_have_a_type() {
        assert_eq!(content_type("quizfunnel.wasm"), Some("application/wasm"));
        assert_eq!(content_type("quizfunnel.d.ts"), None);
        assert_eq!(content_type("README"), None);
        assert!(compresses("quizfunnel.js") && !compresses("logo.png"));
    }
}
