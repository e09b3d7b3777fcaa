//! The frame of every page: the stylesheet, the top bar with the environments the person has
//! a role in, and sign-out (a form, so that it carries the CSRF token).

use maud::{DOCTYPE, Markup, html};
use nimbus_app::accounts::SignedIn;

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

/// A page for someone not signed in (sign-in, errors).
pub fn bare(title: &str, message: &str) -> Markup {
    html! {
        html lang="en" {
            (head(title))
            body {
                main class="narrow" {
                    div class="card" {
                        h1 { (title) }
                        p { (message) }
                        p { a href="/console" { "Back to the console" } }
                    }
                }
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
                    span class="muted" { (who.user.email) }
                    form method="post" action="/console/logout" {
                        input type="hidden" name="csrf" value=(who.session.csrf);
                        button class="link" type="submit" { "Sign out" }
                    }
                }
                main { (body) }
            }
        }
    }
}
