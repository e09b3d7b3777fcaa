//! Objecting to the sharing of one's data (the person, in the console) and the browser's
//! Global Privacy Control signal, which a signed-in request carrying `Sec-GPC: 1` turns into
//! the same objection, recorded as coming from the signal. Every change is recorded with its
//! source. Nimbus itself sends no console user's identity to any other party (notifications
//! carry the asset and, for API writes, the API key); the flag is what any optional flow must
//! ask before it does.

use crate::App;
use crate::accounts::SignedIn;
use crate::error::AppResult;
use crate::ports::User;

impl App {
    /// Sets or lifts the person's objection; false when it was already so.
    pub async fn set_objection(&self, who: &SignedIn, objects: bool) -> AppResult<bool> {
        let changed = self.catalog.set_share_opt_out(who.user.id, objects, "objection", self.now()).await?;
        if changed {
            tracing::info!(user = %nimbus_core::privacy::log_name(who.user.id), objects, "objection to sharing changed");
        }
        Ok(changed)
    }

    /// A signed-in request with `Sec-GPC: 1`: the person objects from now on (once set, the
    /// signal has nothing more to do). True when this request set it.
    pub async fn honour_gpc(&self, user: &User) -> AppResult<bool> {
        if user.share_opt_out_at.is_some() {
            return Ok(false);
        }
        let changed = self.catalog.set_share_opt_out(user.id, true, "gpc", self.now()).await?;
        if changed {
            tracing::info!(user = %nimbus_core::privacy::log_name(user.id), "Global Privacy Control honoured: objection to sharing set");
        }
        Ok(changed)
    }
}
