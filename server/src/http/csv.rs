//! CSV downloads: fields safe to open in a spreadsheet, and bodies read a
//! batch at a time and streamed, so the largest list never sits in memory.

use axum::body::{Body, Bytes};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use std::future::Future;
use std::sync::Arc;

/// One CSV field: quoted when it needs to be, and with formulas
/// neutralised so opening the file never runs what a respondent typed.
pub(super) fn cell(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(text);
    let text = if formula {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// A plain decimal such as `-2` or `-0.5`: a spreadsheet reads it as the
/// number it is, and a quote before it would make it text.
fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let mut parts = digits.splitn(2, '.');
    let whole = parts.next().unwrap_or("");
    let fraction = parts.next();
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// What one batch gave: its rows as CSV text, and where the next batch
/// starts, `None` after the last.
pub(super) type Batch<C> = Result<(String, Option<C>), String>;

/// A CSV file named `filename`: `header`, then the rows `next` gives batch
/// by batch from `first`. A failure part way cuts the file short rather
/// than ending it like a complete one.
pub(super) fn download<C, F, Fut>(
    filename: &str,
    header: &'static str,
    first: C,
    next: F,
) -> Response
where
    C: Send + 'static,
    F: Fn(C) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Batch<C>> + Send,
{
    let next = Arc::new(next);
    let stream = futures_util::stream::unfold(Some((true, first)), move |state| {
        let next = next.clone();
        async move {
            let (at_start, cursor) = state?;
            if at_start {
                return Some((
                    Ok(Bytes::from_static(header.as_bytes())),
                    Some((false, cursor)),
                ));
            }
            match next(cursor).await {
                Ok((rows, more)) if rows.is_empty() && more.is_none() => None,
                Ok((rows, more)) => Some((Ok(Bytes::from(rows)), more.map(|c| (false, c)))),
                Err(e) => {
                    tracing::error!(error = %e, file = header, "CSV download failed part way");
                    Some((Err(std::io::Error::other(e)), None))
                }
            }
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_in_cells_are_neutralised() {
        assert_eq!(cell("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(cell("@sum"), "'@sum");
        assert_eq!(cell("Ada"), "Ada");
        assert_eq!(cell("-2"), "-2");
        assert_eq!(cell("-0.5"), "-0.5");
        for formula in ["-2+3", "-A1", "-", "-.5", "-1.", "-1e5"] {
            assert_eq!(cell(formula), format!("'{formula}"), "{formula}");
        }
        assert_eq!(cell("Lovelace, Ada \"A\""), "\"Lovelace, Ada \"\"A\"\"\"");
    }

    #[tokio::test]
    async fn a_download_is_its_header_then_each_batch_in_turn() {
        let res = download("n.csv", "n\r\n", 0u32, |at| async move {
            Ok((format!("{at}\r\n"), (at < 2).then_some(at + 1)))
        });
        let body = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        assert_eq!(body, "n\r\n0\r\n1\r\n2\r\n");
        let broken = download("n.csv", "n\r\n", (), |()| async { Err("gone".to_string()) });
        assert!(
            axum::body::to_bytes(broken.into_body(), usize::MAX)
                .await
                .is_err()
        );
    }
}
