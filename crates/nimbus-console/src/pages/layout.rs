//! The frame of every page: the stylesheet, the top bar with the environments the person has
//! a role in, and sign-out (a form, so that it carries the CSRF token).

use maud::{DOCTYPE, Markup, html};
use nimbus_app::accounts::SignedIn;
use nimbus_core::accounts::Permission;

fn head(title: &str) -> Markup {
    html! {
        (DOCTYPE)
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        meta name="referrer" content="same-origin";
        title { (title) " · Nimbus" }
        link rel="stylesheet" href="/console/static/console.css";
    }
}

/// Every page links the privacy and cookie pages.
pub fn footer() -> Markup {
    html! {
        footer class="muted" {
            a href="/privacy" { "Privacy" } " · " a href="/cookies" { "Cookies" }
        }
    }
}

/// A page for someone not signed in (sign-in, errors).
pub fn bare(title: &str, message: &str) -> Markup {
    bare_with(
        title,
        html! {
            p { (message) }
            p { a href="/console" { "Back to the console" } }
        },
    )
}

/// A page for someone not signed in, with its own content.
pub fn bare_with(title: &str, content: Markup) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                main class="narrow" {
                    div class="card" {
                        h1 { (title) }
                        (content)
                    }
                    (footer())
                }
            }
        }
    }
}

/// The pages of an environment, as tabs; People only for those who manage them.
pub fn env_tabs(who: &SignedIn, cloud: &str, current: &str) -> Markup {
    let manages = who.role_in(cloud).is_some_and(|r| r.allows(Permission::ManageUsers));
    html! {
        nav class="tabs" aria-label={ "Pages of " (cloud) } {
            a href={ "/console/" (cloud) "/library" } aria-current=[(current == "library").then_some("page")] { "Library" }
            @if who.role_in(cloud).is_some_and(|r| r.allows(Permission::WriteAssets)) {
                a href={ "/console/" (cloud) "/upload" } aria-current=[(current == "upload").then_some("page")] { "Upload" }
            }
            a href={ "/console/" (cloud) "/usage" } aria-current=[(current == "usage").then_some("page")] { "Usage" }
            @if who.role_in(cloud).is_some_and(|r| r.allows(Permission::ManageSchema)) {
                a href={ "/console/" (cloud) "/schema" } aria-current=[(current == "schema").then_some("page")] { "Metadata schema" }
            }
            @if who.role_in(cloud).is_some_and(|r| r.allows(Permission::ManagePresets)) {
                a href={ "/console/" (cloud) "/settings" } aria-current=[(current == "settings").then_some("page")] { "Presets and transformations" }
            }
            @if who.role_in(cloud).is_some_and(|r| r.allows(Permission::ManageKeys)) {
                a href={ "/console/" (cloud) "/keys" } aria-current=[(current == "keys").then_some("page")] { "API keys" }
            }
            @if manages {
                a href={ "/console/" (cloud) "/people" } aria-current=[(current == "people").then_some("page")] { "People" }
            }
        }
    }
}

/// A page of the signed-in console, in environment `cloud` if it has one.
pub fn page(who: &SignedIn, cloud: Option<&str>, title: &str, body: Markup) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                // The first stop of the Tab key: past the top bar and the tabs, to the page.
                a class="skip" href="#content" { "Skip to main content" }
                header class="top" {
                    a class="brand" href="/console" { "Nimbus" }
                    nav aria-label="Environments" {
                        @for m in &who.memberships {
                            @let here = Some(m.cloud_name.as_str()) == cloud;
                            a href={ "/console/" (m.cloud_name) "/library" } aria-current=[here.then_some("page")] {
                                (m.cloud_name)
                            }
                        }
                    }
                    a href="/console/environments" { "Environments" }
                    @if nimbus_app::App::answers_requests(who) { a href="/console/admin/privacy/requests" { "Requests" } }
                    a class="muted" href="/console/account" { (who.user.email) }
                    form method="post" action="/console/logout" {
                        input type="hidden" name="csrf" value=(who.session.csrf);
                        button class="link" type="submit" { "Sign out" }
                    }
                }
                @for p in &who.upcoming_policies {
                    div class="notice banner" role="status" {
                        strong { "The " (if p.kind == "privacy" { "privacy policy" } else { "terms" }) " change on " (nimbus_core::timefmt::iso8601(p.effective_at)) " (UTC). " }
                        (p.changelog_md.trim()) " "
                        a href={ "/privacy/versions?kind=" (p.kind) } { "Read the new version" }
                        ". If you do not agree, you can delete your account from "
                        a href="/console/account" { "your account page" } " before then."
                    }
                }
                main id="content" tabindex="-1" { (body) }
                (footer())
            }
        }
    }
}
