//! Before the script: the bookmarked rooms marked autojoin are joined
//! (after the config's autojoin rooms).

use std::io::Write;
use std::time::Duration;

use tokio::time::Instant;

use super::Runner;

/// At most this long for the bookmarks and their joins.
const AUTOJOIN_TIME: Duration = Duration::from_secs(60);

impl<W: Write> Runner<'_, W> {
    /// Fetches the bookmarks and joins the autojoin ones; waits until
    /// every join has its result. A failed join does not stop the script
    /// (its `error` says why).
    pub(super) async fn autojoin_bookmarks(&mut self) {
        let exec = self.app.autojoin_bookmarks();
        self.print(exec.events);
        let deadline = Instant::now() + AUTOJOIN_TIME;
        while self.app.pending_count() > 0 && !self.closed && Instant::now() < deadline {
            self.step(deadline).await;
        }
    }
}
