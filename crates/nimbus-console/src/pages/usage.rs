//! Usage of an environment over the last 30 days: deliveries, derivatives rendered and bytes
//! stored per day, as bar charts drawn here (SVG, no script) with the numbers in a table too.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use nimbus_app::App;
use nimbus_app::ports::UsageDay;

use super::layout;
use crate::error::PageError;
use crate::session::Signed;

const DAYS: i64 = 30;
const WIDTH: i64 = 600;
const HEIGHT: i64 = 140;

fn date(day: i64) -> String {
    nimbus_core::timefmt::iso8601(day * 86_400)[..10].to_owned()
}

/// A bar per day, scaled to the largest; each bar has its day and value as a tooltip.
fn chart(title: &str, days: &[UsageDay], value: fn(&UsageDay) -> i64) -> Markup {
    let max = days.iter().map(value).max().unwrap_or(0).max(1);
    let n = i64::try_from(days.len()).unwrap_or(1).max(1);
    let slot = WIDTH / n;
    let total: i64 = days.iter().map(value).sum();
    html! {
        figure class="chart" {
            figcaption { (title) }
            svg xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (WIDTH) " " (HEIGHT + 20) } role="img"
                aria-label={ (title) ", last " (n) " days: largest day " (max) } {
                line x1="0" y1=(HEIGHT) x2=(WIDTH) y2=(HEIGHT) stroke="#d8dde6" {}
                @for (i, d) in days.iter().enumerate() {
                    @let v = value(d);
                    @let h = v * (HEIGHT - 10) / max;
                    @let x = i64::try_from(i).unwrap_or(0) * slot + 1;
                    rect x=(x) y=(HEIGHT - h) width=((slot - 2).max(1)) height=(h) fill="#2456c7" {
                        title { (date(d.day)) ": " (v) }
                    }
                }
                text x="0" y=(HEIGHT + 16) font-size="11" fill="#5b6475" { (days.first().map(|d| date(d.day)).unwrap_or_default()) }
                text x=(WIDTH) y=(HEIGHT + 16) font-size="11" fill="#5b6475" text-anchor="end" { (days.last().map(|d| date(d.day)).unwrap_or_default()) }
                text x="0" y="10" font-size="11" fill="#5b6475" { "max " (max) }
            }
            p class="muted" { "Total over the period: " (total) }
        }
    }
}

/// `GET /console/{cloud}/usage`.
pub async fn page(
    State(app): State<App>,
    Signed(who, _): Signed,
    Path(cloud): Path<String>,
) -> Result<Response, PageError> {
    let days = app.usage_as(&who, &cloud, DAYS).await?;
    let body = html! {
        (layout::env_tabs(&who, &cloud, "usage"))
        h1 { "Usage, last " (DAYS) " days" }
        p class="muted" { "Counted per day (UTC) on every node and added up every minute." }
        (chart("Deliveries", &days, |d| d.requests))
        (chart("Derivatives rendered", &days, |d| d.transformations))
        (chart("Bytes stored", &days, |d| d.bytes))
        table {
            thead { tr { th scope="col" { "Day" } th scope="col" { "Deliveries" } th scope="col" { "Derivatives rendered" } th scope="col" { "Bytes stored" } } }
            tbody {
                @for d in days.iter().rev() {
                    tr { td { (date(d.day)) } td { (d.requests) } td { (d.transformations) } td { (d.bytes) } }
                }
            }
        }
    };
    Ok(layout::page(&who, Some(&cloud), "Usage", body).into_response())
}
