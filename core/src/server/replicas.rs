//! Read replicas (`--database-read-url`): browsing and exports read vehicle
//! data from PostgreSQL streaming replicas, while writes, sessions, the
//! gate's decision and the audit record stay on the primary.
//!
//! Why a replica never shows a reader what they may no longer see: the gate
//! decides on the primary (ownership periods, grants, cases, privacy zones)
//! and every read on the replica is bounded by that decision; vehicle data
//! is only ever added, never rewritten or removed, so what a replica holds
//! is what the primary held at an earlier instant, within the ranges the
//! gate allows. A replica serves only while it is a replica of this very
//! primary (same cluster identity, still replaying) and has replayed
//! everything the primary had written `max_lag` ago; a replica that lags,
//! fails or was promoted is skipped (the primary serves) until it is back.

use super::store::{Store, WalPosition};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the replicas' positions are checked.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);
/// The default bound on a replica's lag behind the primary.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(5);

pub struct ReadReplicas {
    primary: Arc<dyn Store>,
    replicas: Vec<Replica>,
    max_lag: Duration,
    /// The primary's WAL position at recent checks, oldest first.
    primary_history: Mutex<VecDeque<(Instant, u64)>>,
    next: AtomicUsize,
}

struct Replica {
    /// Host, port and database (never the password), for the logs.
    name: String,
    store: Arc<dyn Store>,
    usable: AtomicBool,
}

/// Why a replica is not used, for the logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Standing {
    Usable,
    Unreachable(String),
    NotAReplica,
    OtherCluster,
    Lagging,
}

impl std::fmt::Display for Standing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Standing::Usable => f.write_str("in use"),
            Standing::Unreachable(why) => write!(f, "skipped, it does not answer ({why})"),
            Standing::NotAReplica => {
                f.write_str("skipped, it is not a streaming replica (not in recovery)")
            }
            Standing::OtherCluster => {
                f.write_str("skipped, it replicates another cluster than DATABASE_URL")
            }
            Standing::Lagging => f.write_str("skipped until it catches up with the primary"),
        }
    }
}

impl ReadReplicas {
    /// `replicas` are (name, store) pairs; none is used before a check has
    /// found it current.
    pub fn new(
        primary: Arc<dyn Store>,
        replicas: Vec<(String, Arc<dyn Store>)>,
        max_lag: Duration,
    ) -> Self {
        ReadReplicas {
            primary,
            replicas: replicas
                .into_iter()
                .map(|(name, store)| Replica {
                    name,
                    store,
                    usable: AtomicBool::new(false),
                })
                .collect(),
            max_lag,
            primary_history: Mutex::new(VecDeque::new()),
            next: AtomicUsize::new(0),
        }
    }

    /// A replica to read from, taking usable ones in turn; `None` when none
    /// is usable (the caller reads from the primary).
    pub fn pick(&self) -> Option<Arc<dyn Store>> {
        let n = self.replicas.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (0..n)
            .map(|i| &self.replicas[(start + i) % n])
            .find(|r| r.usable.load(Ordering::Acquire))
            .map(|r| r.store.clone())
    }

    /// Checks every replica against the primary's WAL position now; returns
    /// each replica's name and standing.
    pub async fn check(&self) -> Vec<(String, Standing)> {
        let primary = match self.primary.wal_position().await {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => {
                // Without the primary's position nothing can be vouched for.
                for r in &self.replicas {
                    r.usable.store(false, Ordering::Release);
                }
                return Vec::new();
            }
        };
        let now = Instant::now();
        {
            let mut history = self.primary_history.lock().expect("history lock");
            history.push_back((now, primary.lsn));
            // Keep what a bound of `max_lag` needs, and one entry older.
            while history.len() > 1 && now.duration_since(history[1].0) > self.max_lag {
                history.pop_front();
            }
        }
        let mut out = Vec::with_capacity(self.replicas.len());
        for replica in &self.replicas {
            let standing = match replica.store.wal_position().await {
                Ok(Some(position)) => self.standing(&primary, &position),
                Ok(None) => Standing::NotAReplica,
                Err(e) => Standing::Unreachable(e.to_string()),
            };
            let usable = standing == Standing::Usable;
            if replica.usable.swap(usable, Ordering::AcqRel) != usable {
                match &standing {
                    Standing::Usable => {
                        tracing::info!(replica = %replica.name, "read replica in use")
                    }
                    why => tracing::warn!(replica = %replica.name, "read replica {why}"),
                }
            }
            out.push((replica.name.clone(), standing));
        }
        out
    }

    /// A replica is current when it had replayed, at this check, all the
    /// primary had written at some check no longer than `max_lag` ago.
    fn standing(&self, primary: &WalPosition, replica: &WalPosition) -> Standing {
        if !replica.replica {
            return Standing::NotAReplica;
        }
        if replica.system != primary.system {
            return Standing::OtherCluster;
        }
        let history = self.primary_history.lock().expect("history lock");
        match caught_up(&history, replica.lsn, Instant::now(), self.max_lag) {
            true => Standing::Usable,
            false => Standing::Lagging,
        }
    }

    /// Checks the replicas every `CHECK_EVERY`, for as long as the server runs.
    pub fn spawn_monitor(self: &Arc<Self>) {
        let replicas = self.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(CHECK_EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                replicas.check().await;
            }
        });
    }
}

/// Whether a replica that has replayed up to `replayed` holds all the
/// primary had written at one of its checks (`history`: when, and its
/// position then) at most `max_lag` before `now`.
fn caught_up(
    history: &VecDeque<(Instant, u64)>,
    replayed: u64,
    now: Instant,
    max_lag: Duration,
) -> bool {
    history
        .iter()
        .any(|&(at, lsn)| lsn <= replayed && now.duration_since(at) <= max_lag)
}

/// `host:port/database` of a PostgreSQL URL, without user or password.
pub fn replica_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    rest.split('?').next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::{caught_up, replica_name};
    use std::collections::VecDeque;
    use std::time::{Duration, Instant};

    #[test]
    fn a_replica_is_current_while_it_holds_what_the_primary_had_within_the_bound() {
        let now = Instant::now();
        let ago = |ms| now - Duration::from_millis(ms);
        // The primary wrote on: at 100 two seconds ago, 200 at 0.8 s, 300 now.
        let history = VecDeque::from([(ago(2_000), 100), (ago(800), 200), (now, 300)]);
        let bound = Duration::from_secs(1);
        assert!(caught_up(&history, 300, now, bound), "all of it");
        assert!(
            caught_up(&history, 250, now, bound),
            "what it had 0.8 s ago"
        );
        assert!(
            !caught_up(&history, 150, now, bound),
            "only what it had 2 s ago"
        );
        assert!(
            caught_up(&history, 150, now, Duration::from_secs(3)),
            "a looser bound"
        );
        assert!(
            !caught_up(&VecDeque::new(), 300, now, bound),
            "nothing vouched for yet"
        );
    }

    #[test]
    fn a_replica_is_named_without_its_credentials() {
        assert_eq!(
            replica_name("postgres://portal:s3cr@t@db2.internal:5433/portal?sslmode=require"),
            "db2.internal:5433/portal"
        );
        assert_eq!(replica_name("postgres://db2/portal"), "db2/portal");
    }
}
