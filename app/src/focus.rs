//! Where the keyboard focus goes after the page changes under it: moved
//! items, new steps, deleted rows. Without this, keyboard and screen reader
//! users are left on an element that is gone or far from the change.

use leptos::prelude::*;

/// Moves the keyboard focus to the element with this id (and shows it).
pub fn focus(id: &str) {
    focus_element(id, true);
}

fn focus_element(id: &str, scroll: bool) {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        if let Some(el) = document().get_element_by_id(id) {
            if scroll {
                el.scroll_into_view();
            }
            if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, scroll);
}

/// Whether the page has an element with this id (never, on the server).
pub fn exists(id: &str) -> bool {
    #[cfg(feature = "hydrate")]
    return document().get_element_by_id(id).is_some();
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = id;
        false
    }
}

/// Focuses `id` once the view has caught up with a change (after a move or
/// an insert, the element may only exist on the next frame).
pub fn focus_soon(id: String) {
    request_animation_frame(move || focus(&id));
}

/// Like `focus_soon`, from the top of the page: a quiz's next step, whose
/// header and progress above the question belong in view too, as after a
/// page load.
pub fn focus_soon_from_top(id: String) {
    request_animation_frame(move || {
        #[cfg(feature = "hydrate")]
        window().scroll_to_with_x_and_y(0.0, 0.0);
        focus_element(&id, false);
    });
}

/// Like `focus_soon`, only when nothing has the focus (it is on the
/// page's body): a page arrived at in place, where the element that had
/// it is gone, but not one where the reader has already moved on.
pub fn focus_soon_if_lost(id: String) {
    request_animation_frame(move || {
        #[cfg(feature = "hydrate")]
        {
            let lost = document()
                .active_element()
                .is_none_or(|el| el.tag_name().eq_ignore_ascii_case("body"));
            if lost {
                focus(&id);
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = id;
    });
}

/// The id of the move button to focus after moving item `to` of `len`
/// (ids `{prefix}{i}-move-up` / `-down`): the one pressed, unless the
/// move took the item to the end where that button is disabled.
pub fn move_button(prefix: &str, to: usize, len: usize, up: bool) -> String {
    let up = if up { to > 0 } else { to + 1 >= len };
    format!("{prefix}{to}-move-{}", if up { "up" } else { "down" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn focus_stays_on_the_pressed_button_unless_it_became_disabled() {
        assert_eq!(move_button("q", 1, 3, true), "q1-move-up");
        assert_eq!(move_button("q", 0, 3, true), "q0-move-down");
        assert_eq!(move_button("q", 1, 3, false), "q1-move-down");
        assert_eq!(move_button("q", 2, 3, false), "q2-move-up");
    }
}
