//! Leaving a page that holds edits not yet saved asks first: closing or
//! reloading the tab (the browser's own question), and following a link
//! within the admin, which the page handles itself and the browser would
//! not ask about.

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
                && !link
                    .get_attribute("href")
                    .unwrap_or_default()
                    .starts_with('#');
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
