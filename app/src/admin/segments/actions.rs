//! What a segment does when a contact enters it (webhook, sales handoff,
//! tag), and the log of its webhook deliveries with a resend button.

use crate::error::AppError;
use leptos::prelude::*;
use quizfunnel::action::{ActionKind, SegmentAction};
use quizfunnel::store::Delivery;
use serde::{Deserialize, Serialize};

/// Deliveries shown in a segment's log.
#[cfg(feature = "ssr")]
const LOG_SIZE: u32 = 50;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionsAndLog {
    pub actions: Vec<SegmentAction>,
    pub deliveries: Vec<Delivery>,
}

#[cfg(feature = "ssr")]
mod ssr {
    use crate::error::AppError;
    use crate::state::AppContext;
    use quizfunnel::account::User;

    pub fn marketer() -> Result<(AppContext, User), AppError> {
        let user = crate::auth::ssr::require(|r| r.can_edit_funnels(), "change what segments do")?;
        Ok((AppContext::get(), user))
    }

    /// A name that resolves to this machine or a private network is
    /// refused like an address that is one. A name that does not resolve
    /// now is taken: it is looked up again at each delivery.
    pub async fn resolves_private(host: &str, port: u16) -> bool {
        match tokio::net::lookup_host((host, port)).await {
            Ok(mut addrs) => addrs.any(|a| quizfunnel::action::is_private(a.ip())),
            Err(_) => false,
        }
    }
}

#[server(endpoint = "segments/actions")]
pub async fn segment_actions(segment_id: i64) -> Result<ActionsAndLog, AppError> {
    let (ctx, _) = ssr::marketer()?;
    Ok(ActionsAndLog {
        actions: ctx
            .store
            .actions(segment_id)
            .await
            .map_err(super::api::ssr::fail)?,
        deliveries: ctx
            .store
            .deliveries(segment_id, LOG_SIZE)
            .await
            .map_err(super::api::ssr::fail)?,
    })
}

/// Adds an action: `kind` is `webhook`, `handoff` or `tag`; `url` is
/// needed by webhooks and optional for handoffs; `tag` by tags.
#[server(endpoint = "segments/actions/add")]
pub async fn add_action(
    segment_id: i64,
    kind: String,
    url: String,
    tag: String,
) -> Result<i64, AppError> {
    use super::api::ssr::fail;
    use quizfunnel::action::{NewAction, check_tag, check_webhook_url};
    let (ctx, me) = ssr::marketer()?;
    let kind = ActionKind::parse(&kind).ok_or_else(|| {
        fail(AppError::invalid(
            "action-kind",
            "choose what to do: a webhook, a sales handoff or a tag",
        ))
    })?;
    let url = url.trim();
    let wants_url = kind == ActionKind::Webhook || (kind == ActionKind::Handoff && !url.is_empty());
    let url = if wants_url {
        let allow = ctx.store.allow_private_webhooks().await.map_err(fail)?;
        let target =
            check_webhook_url(url, allow).map_err(|m| fail(AppError::invalid("action-url", m)))?;
        if !allow && ssr::resolves_private(&target.host, target.port).await {
            return Err(fail(AppError::invalid(
                "action-url",
                format!(
                    "{} points to this machine or a private network; allow private addresses in Settings to call it.",
                    target.host
                ),
            )));
        }
        Some(target.url)
    } else {
        None
    };
    let tag = match kind {
        ActionKind::Tag => {
            Some(check_tag(&tag).map_err(|m| fail(AppError::invalid("action-tag", m)))?)
        }
        _ => None,
    };
    let secret = url
        .as_ref()
        .map(|_| format!("whsec_{}", crate::auth::ssr::new_token()));
    let action = NewAction { kind, url, tag };
    let id = ctx
        .store
        .add_action(segment_id, &action, secret.as_deref(), ctx.clock.now())
        .await
        .map_err(fail)?;
    let what = action
        .url
        .clone()
        .or(action.tag.clone())
        .unwrap_or_default();
    crate::auth::ssr::audit(
        &ctx,
        &me.email,
        "segment.action_added",
        &format!("segment {segment_id}"),
        &format!("{} {what}", kind.as_str()),
    )
    .await;
    Ok(id)
}

#[server(endpoint = "segments/actions/remove")]
pub async fn remove_action(segment_id: i64, action_id: i64) -> Result<(), AppError> {
    let (ctx, me) = ssr::marketer()?;
    ctx.store
        .remove_action(segment_id, action_id)
        .await
        .map_err(super::api::ssr::fail)?;
    crate::auth::ssr::audit(
        &ctx,
        &me.email,
        "segment.action_removed",
        &format!("segment {segment_id}"),
        &format!("action {action_id}"),
    )
    .await;
    Ok(())
}

/// Sends a delivery again now, with the same idempotency key.
#[server(endpoint = "segments/deliveries/resend")]
pub async fn resend_delivery(segment_id: i64, delivery_id: i64) -> Result<(), AppError> {
    let (ctx, _) = ssr::marketer()?;
    ctx.store
        .resend_delivery(segment_id, delivery_id, ctx.clock.now())
        .await
        .map_err(super::api::ssr::fail)
}

fn describe(a: &SegmentAction) -> String {
    match a.kind {
        ActionKind::Webhook => format!("Webhook to {}", a.url.clone().unwrap_or_default()),
        ActionKind::Handoff => match &a.url {
            Some(url) => format!("Hand to the next sales user, and tell {url}"),
            None => "Hand to the next sales user".into(),
        },
        ActionKind::Tag => format!("Tag “{}”", a.tag.clone().unwrap_or_default()),
    }
}

/// The actions of a saved segment, the form to add one, and the delivery
/// log.
#[component]
pub fn SegmentActionsPanel(segment_id: i64) -> impl IntoView {
    let add = Action::new(move |(kind, url, tag): &(String, String, String)| {
        add_action(segment_id, kind.clone(), url.clone(), tag.clone())
    });
    let remove = Action::new(move |id: &i64| remove_action(segment_id, *id));
    let resend = Action::new(move |id: &i64| resend_delivery(segment_id, *id));
    let loaded = Resource::new(
        move || {
            (
                add.version().get(),
                remove.version().get(),
                resend.version().get(),
            )
        },
        move |_| segment_actions(segment_id),
    );
    let kind = RwSignal::new("webhook".to_string());
    let url = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let error_for = move |field: &'static str| {
        move || match add.value().get() {
            Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let other_error = move || {
        let failed = |r: Option<Result<(), AppError>>| match r {
            Some(Err(e)) => Some(e.to_string()),
            _ => None,
        };
        match add.value().get() {
            Some(Err(AppError::Invalid { .. })) | Some(Ok(_)) | None => None,
            Some(Err(e)) => Some(e.to_string()),
        }
        .or_else(|| failed(remove.value().get()))
        .or_else(|| failed(resend.value().get()))
    };
    // A saved action clears the form for the next one.
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            url.set(String::new());
            tag.set(String::new());
        }
    });
    view! {
        <section aria-labelledby="actions-heading" class="segment-actions">
            <h2 id="actions-heading">"When a contact enters"</h2>
            <p class="help">
                "If this segment is a tier of the playbook, it acts only for the leads placed in that tier."
            </p>
            <Transition fallback=|| view! { <p>"Loading actions…"</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok(ActionsAndLog { actions, deliveries }) => view! {
                            {if actions.is_empty() {
                                view! { <p>"Nothing happens yet."</p> }.into_any()
                            } else {
                                view! {
                                    <ul class="actions">
                                        {actions.into_iter().map(|a| {
                                            let text = describe(&a);
                                            let label = format!("Remove: {text}");
                                            view! {
                                                <li>
                                                    <span>{text}</span>
                                                    {a.secret.clone().map(|s| view! {
                                                        <br /><small>"Signing secret: "<code class="secret">{s}</code></small>
                                                    })}
                                                    " "
                                                    <button type="button" class="secondary" aria-label=label
                                                        on:click=move |_| { remove.dispatch(a.id); }>"Remove"</button>
                                                </li>
                                            }
                                        }).collect_view()}
                                    </ul>
                                }.into_any()
                            }}
                            <DeliveryLog deliveries resend />
                        }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <form class="add-action" on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch((kind.get_untracked(), url.get_untracked(), tag.get_untracked()));
            }>
                <h3>"Add an action"</h3>
                <label for="action-kind">"Do this"</label>
                <select id="action-kind" prop:value=move || kind.get()
                    on:change=move |ev| kind.set(event_target_value(&ev))
                    aria-describedby="action-kind-error">
                    <option value="webhook">"Send a signed webhook"</option>
                    <option value="handoff">"Hand off to sales (next sales user in turn)"</option>
                    <option value="tag">"Tag the contact"</option>
                </select>
                <p id="action-kind-error" class="field-error" role="alert">{error_for("action-kind")}</p>
                {move || (kind.get() != "tag").then(|| view! {
                    <label for="action-url">{move || if kind.get() == "handoff" { "Webhook URL (optional)" } else { "Webhook URL" }}</label>
                    <input id="action-url" type="url" inputmode="url" maxlength="2000"
                        placeholder="https://crm.example.com/hooks/quizfunnel"
                        prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))
                        aria-describedby="action-url-error" />
                    <p id="action-url-error" class="field-error" role="alert">{error_for("action-url")}</p>
                })}
                {move || (kind.get() == "tag").then(|| view! {
                    <label for="action-tag">"Tag"</label>
                    <input id="action-tag" maxlength="60" placeholder="e.g. hot"
                        prop:value=move || tag.get() on:input=move |ev| tag.set(event_target_value(&ev))
                        aria-describedby="action-tag-error" />
                    <p id="action-tag-error" class="field-error" role="alert">{error_for("action-tag")}</p>
                })}
                {move || other_error().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                <p><button type="submit" disabled=move || add.pending().get()>"Add action"</button></p>
            </form>
        </section>
    }
}

#[component]
fn DeliveryLog(
    deliveries: Vec<Delivery>,
    resend: Action<i64, Result<(), AppError>>,
) -> impl IntoView {
    use quizfunnel::time::format_utc;
    if deliveries.is_empty() {
        return view! {
            <h3>"Webhook deliveries"</h3>
            <p>"No webhooks sent yet."</p>
        }
        .into_any();
    }
    view! {
        <h3>"Webhook deliveries"</h3>
        <div class="table-scroll">
            <table class="list deliveries">
                <thead><tr>
                    <th scope="col">"Contact"</th>
                    <th scope="col">"To"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col">"Tries"</th>
                    <th scope="col">"Last answer"</th>
                    <th scope="col">"Entered"</th>
                    <th scope="col"><span class="visually-hidden">"Resend"</span></th>
                </tr></thead>
                <tbody>
                    {deliveries.into_iter().map(|d| {
                        let who = d.contact_email.clone().unwrap_or_else(|| format!("Contact #{}", d.contact_id));
                        let status = match d.status.as_str() {
                            "delivered" => format!("Delivered {}", d.delivered_at.map(format_utc).unwrap_or_default()),
                            "pending" if d.attempts == 0 => "Waiting to be sent".to_string(),
                            "pending" => format!("Retrying at {}", format_utc(d.next_attempt_at)),
                            _ => "Failed: gave up".to_string(),
                        };
                        let answer = match (d.last_code, d.last_error.clone()) {
                            (_, Some(e)) => e,
                            (Some(c), None) => format!("HTTP {c}"),
                            (None, None) => String::new(),
                        };
                        let label = format!("Resend to {who}");
                        let id = d.id;
                        view! {
                            <tr class=format!("delivery {}", d.status)>
                                <td><a href=format!("/admin/contacts/{}", d.contact_id)>{who}</a></td>
                                <td><code>{d.url.clone()}</code></td>
                                <td>{status}</td>
                                <td class="count">{d.attempts}</td>
                                <td>{answer}</td>
                                <td>{format_utc(d.created_at)}</td>
                                <td>{(d.status != "pending").then(|| view! {
                                    <button type="button" class="secondary" aria-label=label
                                        on:click=move |_| { resend.dispatch(id); }>"Resend"</button>
                                })}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
