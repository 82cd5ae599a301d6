//! `/admin/settings`: users, invitations, API keys and the audit log.

pub mod api;

use crate::error::{AppError, error_view};
use leptos::prelude::*;
use leptos_meta::Title;
use quizfunnel::account::Role;
use quizfunnel::time::format_utc;

/// The message of a failed action, shown where the form is.
fn action_error<T: Clone + Send + Sync + 'static>(
    result: Option<Result<T, AppError>>,
) -> Option<AnyView> {
    match result {
        Some(Err(e)) => Some(error_view(&e)),
        _ => None,
    }
}

/// This site's address as the browser sees it, for links and snippets to
/// copy (empty while rendering on the server, filled in once hydrated).
fn origin() -> String {
    #[cfg(feature = "hydrate")]
    {
        leptos::prelude::window()
            .location()
            .origin()
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        String::new()
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings · quizfunnel" />
        <main class="page">
            <h1>"Settings"</h1>
            <Users />
            <ApiKeys />
            <Tracking />
            <Webhooks />
            <AuditLog />
        </main>
    }
}

#[component]
fn Users() -> impl IntoView {
    let invite = ServerAction::<api::InviteUser>::new();
    let change_role = ServerAction::<api::ChangeRole>::new();
    let set_active = ServerAction::<api::SetUserActive>::new();
    let users = Resource::new(
        move || {
            (
                invite.version().get(),
                change_role.version().get(),
                set_active.version().get(),
            )
        },
        |_| api::users(),
    );

    view! {
        <section aria-labelledby="users-heading">
            <h2 id="users-heading">"Users"</h2>
            <Transition fallback=|| view! { <p>"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Err(e) => error_view(&e),
                        Ok(list) => view! {
                            <div class="table-scroll">
                                <table class="list">
                                    <thead><tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Status"</th><th scope="col">"Actions"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|u| {
                                            let label = format!("Role for {}", u.email);
                                            let toggle = if u.active { "Deactivate" } else { "Reactivate" };
                                            view! {
                                                <tr>
                                                    <td>{u.email.clone()}</td>
                                                    <td>
                                                        <ActionForm action=change_role attr:class="inline">
                                                            <input type="hidden" name="user_id" value=u.id />
                                                            <select name="role" aria-label=label>
                                                                {Role::ALL.into_iter().map(|r| view! {
                                                                    <option value=r.as_str() selected=r == u.role>{r.as_str()}</option>
                                                                }).collect_view()}
                                                            </select>
                                                            <button type="submit" class="secondary">"Change role"</button>
                                                        </ActionForm>
                                                    </td>
                                                    <td>{if u.active { "active" } else { "deactivated" }}</td>
                                                    <td>
                                                        <ActionForm action=set_active attr:class="inline">
                                                            <input type="hidden" name="user_id" value=u.id />
                                                            <input type="hidden" name="active" value=(!u.active).to_string() />
                                                            <button type="submit" class="secondary" aria-label=format!("{toggle} {}", u.email)>{toggle}</button>
                                                        </ActionForm>
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || action_error(change_role.value().get())}
            {move || action_error(set_active.value().get())}

            <h3>"Invite someone"</h3>
            <ActionForm action=invite>
                <label for="invite-email">"Email"</label>
                <input id="invite-email" name="email" type="email" required maxlength="254" />
                <label for="invite-role">"Role"</label>
                <select id="invite-role" name="role">
                    <option value="marketer">"marketer: builds quizzes and segments"</option>
                    <option value="sales">"sales: works the lead lists"</option>
                    <option value="owner">"owner: everything, including users and keys"</option>
                </select>
                <p><button type="submit">"Create invitation link"</button></p>
            </ActionForm>
            {move || match invite.value().get() {
                Some(Ok(link)) => Some(view! {
                    <div class="notice" role="status">
                        <p>{format!("Send this one-time link to {}. It works for 72 hours:", link.email)}</p>
                        <p><code class="invite-link">{format!("{}{}", origin(), link.path)}</code></p>
                    </div>
                }.into_any()),
                other => action_error(other),
            }}
        </section>
    }
}

#[component]
fn ApiKeys() -> impl IntoView {
    let create = ServerAction::<api::CreateApiKey>::new();
    let revoke = ServerAction::<api::RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| api::api_keys(),
    );
    view! {
        <section aria-labelledby="keys-heading">
            <h2 id="keys-heading">"API keys"</h2>
            <p>"Servers send events and contacts with "<code>"Authorization: Bearer KEY"</code>"."</p>
            <ActionForm action=create>
                <label for="key-name">"Name"</label>
                <input id="key-name" name="name" required maxlength="100" placeholder="e.g. product backend" />
                <p><button type="submit">"Create key"</button></p>
            </ActionForm>
            {move || match create.value().get() {
                Some(Ok(new_key)) => Some(view! {
                    <div class="notice" role="status">
                        <p>"Copy this key now. It will not be shown again:"</p>
                        <p><code class="api-key">{new_key.key}</code></p>
                    </div>
                }.into_any()),
                other => action_error(other),
            }}
            <Transition fallback=|| view! { <p>"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Err(e) => error_view(&e),
                        Ok(list) if list.is_empty() => view! { <p>"No API keys yet."</p> }.into_any(),
                        Ok(list) => view! {
                            <div class="table-scroll">
                                <table class="list">
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th></tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|k| view! {
                                            <tr>
                                                <td>{k.name.clone()}</td>
                                                <td><code>{format!("{}…", k.prefix)}</code></td>
                                                <td>{format_utc(k.created_at)}</td>
                                                <td>{k.last_used_at.map(format_utc).unwrap_or_else(|| "never".into())}</td>
                                                <td>{match k.revoked_at {
                                                    Some(at) => format!("revoked {}", format_utc(at)).into_any(),
                                                    None => view! {
                                                        <ActionForm action=revoke attr:class="inline">
                                                            <input type="hidden" name="id" value=k.id />
                                                            <button type="submit" class="secondary" aria-label=format!("Revoke {}", k.name)>"Revoke"</button>
                                                        </ActionForm>
                                                    }.into_any(),
                                                }}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AuditLog() -> impl IntoView {
    let log = Resource::new(|| (), |_| api::audit_log());
    view! {
        <section aria-labelledby="audit-heading">
            <h2 id="audit-heading">"Audit log"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match log.await {
                        Err(e) => error_view(&e),
                        Ok(entries) => view! {
                            <div class="table-scroll">
                                <table class="list">
                                    <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"On"</th><th scope="col">"Detail"</th></tr></thead>
                                    <tbody>
                                        {entries.into_iter().map(|e| view! {
                                            <tr><td>{format_utc(e.at)}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.target}</td><td>{e.detail}</td></tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                        }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Tracking() -> impl IntoView {
    let save = ServerAction::<api::SaveTracking>::new();
    let settings = Resource::new(move || save.version().get(), |_| api::tracking());
    view! {
        <section aria-labelledby="tracking-heading">
            <h2 id="tracking-heading">"Tracking"</h2>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match settings.await {
                        Err(e) => error_view(&e),
                        Ok(s) => view! {
                            <p>"Put this on every page of your site to record page views, and to call "
                                <code>"quizfunnel.track(name, properties)"</code>" and "
                                <code>"quizfunnel.identify(email, attributes)"</code>":"</p>
                            <pre class="snippet"><code>{format!(
                                "<script>window.quizfunnel=window.quizfunnel||{{q:[],track:function(){{this.q.push([\"track\",arguments])}},identify:function(){{this.q.push([\"identify\",arguments])}}}};</script>\n<script async src=\"{}/t.js\"></script>",
                                origin()
                            )}</code></pre>
                            <p>"Site key (public, it is inside t.js): "<code class="site-key">{s.site_key.clone()}</code></p>
                            <ActionForm action=save>
                                <label for="tracking-origins">"Sites allowed to send events (one origin per line)"</label>
                                <textarea id="tracking-origins" name="origins" rows="3"
                                    placeholder="https://www.example.com" prop:value=s.allowed_origins.join("\n")>
                                    {s.allowed_origins.join("\n")}
                                </textarea>
                                <label for="tracking-retention">"Delete anonymous visitors idle for (days)"</label>
                                <input id="tracking-retention" name="retention_days" type="number" min="1" max="3650" required
                                    value=s.retention_days />
                                <p><button type="submit">"Save tracking settings"</button></p>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || match save.value().get() {
                Some(Ok(_)) => Some(view! { <p class="notice" role="status">"Tracking settings saved."</p> }.into_any()),
                other => action_error(other),
            }}
        </section>
    }
}

#[component]
fn Webhooks() -> impl IntoView {
    let save = ServerAction::<api::SaveWebhooks>::new();
    let allowed = Resource::new(move || save.version().get(), |_| api::webhooks());
    view! {
        <section aria-labelledby="webhooks-heading">
            <h2 id="webhooks-heading">"Webhooks"</h2>
            <p>"Segment webhooks are refused when they point at this machine or a private network, so a segment cannot be used to reach services that are not meant to be public."</p>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match allowed.await {
                        Err(e) => error_view(&e),
                        Ok(allow) => view! {
                            <ActionForm action=save>
                                <input type="hidden" name="settings" value="webhooks" />
                                <label class="check">
                                    <input type="checkbox" name="allow_private" value="on" checked=allow />
                                    " Allow webhooks to this machine and private networks"
                                </label>
                                <p><button type="submit">"Save webhook settings"</button></p>
                            </ActionForm>
                        }.into_any(),
                    }
                })}
            </Transition>
            {move || match save.value().get() {
                Some(Ok(_)) => Some(view! { <p class="notice" role="status">"Webhook settings saved."</p> }.into_any()),
                other => action_error(other),
            }}
        </section>
    }
}
