//! `nimbus admin analytics CLOUD [--day DATE] [--json]`: the day's delivery counters of an
//! environment (privacy F12): views and unique visitors per asset, most viewed first, and
//! views per country when a geo database is configured (F13). Unique visitors below five
//! show as `<5`; countries with fewer than five views are counted together as `other`.

use std::error::Error;

use nimbus_app::analytics::K_ANONYMITY;

use crate::serve::build_app;
use crate::settings::Settings;

pub async fn analytics(s: Settings, cloud: String, day: Option<String>, json: bool) -> Result<(), Box<dyn Error>> {
    let (app, _catalog) = build_app(&s).await?;
    let day = match day.as_deref() {
        Some(d) => nimbus_core::timefmt::parse_date(d).ok_or_else(|| format!("--day {d}: expected YYYY-MM-DD"))?,
        None => app.now(),
    };
    let day = nimbus_app::usage::day_of(day);
    let date = nimbus_core::timefmt::iso8601(day * 86_400)[..10].to_owned();
    let rows = app.delivery_report(&cloud, day).await?;
    let countries = app.delivery_countries(&cloud, day).await?.countries;
    let few = format!("<{K_ANONYMITY}");
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "asset_id": r.asset_id,
                    "public_id": r.public_id,
                    "views": r.views,
                    "visitors": r.visitors.map_or_else(|| serde_json::json!(few), |v| serde_json::json!(v)),
                })
            })
            .collect();
        let countries: serde_json::Map<String, serde_json::Value> =
            countries.into_iter().map(|(c, n)| (c, serde_json::json!(n))).collect();
        println!("{}", serde_json::json!({ "cloud": cloud, "day": date, "assets": rows, "countries": countries }));
        return Ok(());
    }
    println!("Deliveries in {cloud} on {date} (UTC):");
    if rows.is_empty() {
        println!("none counted.");
    }
    for r in rows {
        let visitors = r.visitors.map_or_else(|| few.clone(), |v| v.to_string());
        let name = r.public_id.as_deref().unwrap_or("(deleted asset)");
        println!("{:>10} views {:>8} visitors  {name} ({})", r.views, visitors, r.asset_id);
    }
    if !countries.is_empty() {
        println!("Views by country:");
        for (country, views) in countries {
            println!("{views:>10} views  {country}");
        }
    }
    Ok(())
}
