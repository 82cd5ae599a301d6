//! Leaving a page that holds edits not yet saved asks first: closing or
//! reloading the tab (the browser's own question), and following a link
//! within the admin, which the page handles itself and the browser would
//! not ask about.

use leptos::prelude::*;

/// What a page last saved, to ask before leaving while what is on it
/// differs. Set from what a save sent, not from the page when the answer
/// came: an edit made while the save was on its way is still unsaved.
pub struct SavedAs<T: Send + Sync + 'static> {
    saved: StoredValue<T>,
    sending: StoredValue<T>,
}

impl<T: Send + Sync + 'static> Clone for SavedAs<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for SavedAs<T> {}

impl<T: PartialEq + Clone + Send + Sync + 'static> SavedAs<T> {
    /// Starts from what `current()` shows now, as loaded, and guards it.
    pub fn guard(current: impl Fn() -> T + Clone + Send + Sync + 'static) -> Self {
        let this = SavedAs {
            saved: StoredValue::new(current()),
            sending: StoredValue::new(current()),
        };
        guard(move || this.saved.with_value(|s| *s != current()));
        this
    }

    /// A save is sending `value`.
    pub fn sending(&self, value: T) {
        self.sending.set_value(value);
    }

    /// The save last sent went through.
    pub fn saved(&self) {
        self.saved.set_value(self.sending.get_value());
    }
}

/// Whether following a link to `href` leaves the page: not a `#place` on
/// it, nor a scheme that opens something else (`mailto:`, `tel:`).
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
fn leaves_page(href: &str) -> bool {
    if href.starts_with('#') {
        return false;
    }
    match href.split_once(':') {
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        }
        _ => true,
    }
}

/// Asks before the page is left while `unsaved()` holds.
pub fn guard(unsaved: impl Fn() -> bool + Clone + Send + Sync + 'static) {
    #[cfg(feature = "hydrate")]
    browser::guard(unsaved);
    #[cfg(not(feature = "hydrate"))]
    let _ = unsaved;
}

#[cfg(feature = "hydrate")]
mod browser {
    const QUESTION: &str = "This page has changes that are not saved. Leave it and lose them?";

    use leptos::prelude::*;
    use leptos::wasm_bindgen::{JsCast, closure::Closure};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    pub fn guard(unsaved: impl Fn() -> bool + Clone + Send + Sync + 'static) {
        // Once the person said to leave, the page's unload asks no more.
        let leaving = Arc::new(AtomicBool::new(false));
        let unload = {
            let (unsaved, leaving) = (unsaved.clone(), leaving.clone());
            window_event_listener(leptos::ev::beforeunload, move |ev| {
                if unsaved() && !leaving.load(Ordering::Relaxed) {
                    ev.prevent_default();
                    ev.set_return_value(QUESTION);
                }
            })
        };
        // Runs before the router's own handler (capture, on the window), so
        // a refusal stops the navigation there too.
        let click = Closure::<dyn Fn(web_sys::MouseEvent)>::new(move |ev: web_sys::MouseEvent| {
            let plain = ev.button() == 0
                && !(ev.meta_key() || ev.ctrl_key() || ev.shift_key() || ev.alt_key());
            if !plain || ev.default_prevented() || !unsaved() {
                return;
            }
            let link = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .and_then(|el| el.closest("a[href]").ok().flatten());
            let Some(link) = link else { return };
            let elsewhere = link.get_attribute("target").is_none_or(|t| t == "_self")
                && !link.has_attribute("download")
                && super::leaves_page(&link.get_attribute("href").unwrap_or_default());
            if !elsewhere {
                return;
            }
            if window().confirm_with_message(QUESTION).unwrap_or(true) {
                leaving.store(true, Ordering::Relaxed);
            } else {
                ev.prevent_default();
                ev.stop_immediate_propagation();
            }
        });
        let _ = window().add_event_listener_with_callback_and_bool(
            "click",
            click.as_ref().unchecked_ref(),
            true,
        );
        let click = send_wrapper::SendWrapper::new(click);
        on_cleanup(move || {
            let _ = window().remove_event_listener_with_callback_and_bool(
                "click",
                click.as_ref().unchecked_ref(),
                true,
            );
            unload.remove();
        });
    }
}

#[cfg(test)]
mod tests {
    use super::leaves_page;

    #[test]
    fn only_links_to_other_pages_leave() {
        for href in [
            "/admin",
            "segments",
            "https://example.com/x",
            "HTTP://a",
            "?page=2",
        ] {
            assert!(leaves_page(href), "{href}");
        }
        for href in [
            "#top",
            "mailto:jo@example.com",
            "tel:+123",
            "javascript:void(0)",
        ] {
            assert!(!leaves_page(href), "{href}");
        }
    }
}
