//! A model release's purge as a resumable plan.
//!
//! A release makes version V current (one KV write; from then no lookup reaches another
//! version's keys), then purges the predictions of every other stored version from KV and the
//! Cache API. That purge can outlast one request (operation limits, errors half-way), so its
//! state lives in KV ([`PurgeState`], key [`crate::keys::PURGE_STATE`]) and is saved after every
//! page: a retry of the same release, or a release that finds a purge unfinished, continues from
//! the saved cursor instead of starting over or forgetting the rest. Releasing V again when
//! V's purge is complete does nothing: releases are idempotent.
//!
//! Not here: the KV and Cache API calls (the glue makes them, page by page, as [`PurgeState`]
//! says).

use api::{Invalidated, PurgeProgress, ReleaseAnswer};
use serde::{Deserialize, Serialize};

/// Keys one release request deletes at most (each costs a KV delete and a Cache API delete,
/// within the 1,000 operations of one invocation); the rest waits for the next call.
pub const PURGE_KEYS_PER_REQUEST: u32 = 400;
/// KV's largest list page.
pub const KV_PAGE: u32 = 1000;

/// Where a purge stands: stored in KV between requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeState {
    /// The version being released; everything else is purged.
    pub current: u32,
    /// Versions whose predictions are still (maybe) stored, in purge order.
    pub pending: Vec<u32>,
    /// KV's list cursor inside `pending[0]`, where the next page starts.
    pub cursor: Option<String>,
    /// Versions fully purged by this release, in order (for the purge-by-tag and the answer).
    pub done: Vec<u32>,
    /// Keys deleted so far by this release.
    pub deleted: u64,
}

impl PurgeState {
    /// The state to run for a release of `v`, given the versions stored in R2 and what KV
    /// holds from earlier (`saved`). A saved purge of `v` resumes; a saved unfinished purge of
    /// another version is folded in (its versions are not `v`, so they are purged too).
    pub fn for_release(v: u32, stored_versions: &[u32], saved: Option<PurgeState>) -> PurgeState {
        match saved {
            Some(s) if s.current == v => s,
            saved => {
                let mut pending: Vec<u32> = Vec::new();
                let carried = saved.as_ref().map(|s| &s.pending[..]).unwrap_or(&[]);
                for &p in carried.iter().chain(stored_versions) {
                    if p != v && !pending.contains(&p) {
                        pending.push(p);
                    }
                }
                // An unfinished page of the version carried first keeps its cursor.
                let cursor = saved
                    .filter(|s| s.pending.first().is_some_and(|p| *p != v))
                    .and_then(|s| s.cursor);
                PurgeState {
                    current: v,
                    pending,
                    cursor,
                    done: Vec::new(),
                    deleted: 0,
                }
            }
        }
    }

    pub fn complete(&self) -> bool {
        self.pending.is_empty()
    }

    /// The next page to list: version and list limit, or None when this request's `budget` is
    /// spent or nothing is pending.
    pub fn next_page(&self, budget_left: u32) -> Option<(u32, u32)> {
        let v = *self.pending.first()?;
        (budget_left > 0).then_some((v, budget_left.min(KV_PAGE)))
    }

    /// Record a page whose `deleted` keys are gone; `next` is KV's cursor when the version has
    /// more keys. Returns the version finished by this page, if any.
    pub fn page_done(&mut self, deleted: u32, next: Option<String>) -> Option<u32> {
        self.deleted += u64::from(deleted);
        match next {
            Some(c) => {
                self.cursor = Some(c);
                None
            }
            None => {
                self.cursor = None;
                let v = (!self.pending.is_empty()).then(|| self.pending.remove(0))?;
                self.done.push(v);
                Some(v)
            }
        }
    }
}

/// What one release request deleted besides KV's keys counted in [`PurgeState`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub kv: u64,
    pub cache: u64,
    pub memory: u64,
}

/// The answer to a release of `v` (current before it: `previous`) that left the purge at `st`:
/// 200 when the purge is complete, 202 when more is left. `purge_api` says what the purge by
/// tag did for each version this request finished.
pub fn answer(
    v: u32,
    previous: Option<u32>,
    st: &PurgeState,
    deleted: Deleted,
    mut purge_api: Vec<String>,
) -> (u16, ReleaseAnswer) {
    if purge_api.is_empty() {
        purge_api.push(if st.complete() {
            "nothing left to purge".into()
        } else {
            "after the purge completes".into()
        });
    }
    let body = ReleaseAnswer {
        current: v,
        previous,
        invalidated: Invalidated {
            model_version: previous.filter(|p| *p != v),
            by_version: format!("every prediction lookup now uses model version {v}'s keys"),
            kv_deleted: deleted.kv,
            cache_deleted: deleted.cache,
            memory_dropped: deleted.memory,
            purge_api: purge_api.join("; "),
        },
        purge: PurgeProgress {
            complete: st.complete(),
            pending_versions: st.pending.clone(),
            purged_versions: st.done.clone(),
            deleted_by_this_release: st.deleted,
            next: if st.complete() {
                "nothing"
            } else {
                "release the same version again to continue"
            }
            .into(),
        },
    };
    (if st.complete() { 200 } else { 202 }, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_answers_202_while_its_purge_has_keys_left() {
        let mut st = PurgeState::for_release(2, &[1, 2], None);
        let (status, a) = answer(2, Some(1), &st, Deleted::default(), Vec::new());
        assert_eq!((status, a.purge.complete), (202, false));
        assert_eq!(a.invalidated.model_version, Some(1));
        assert_eq!(a.invalidated.purge_api, "after the purge completes");
        assert_eq!(a.purge.next, "release the same version again to continue");
        st.page_done(3, None);
        let deleted = Deleted {
            kv: 3,
            cache: 2,
            memory: 1,
        };
        let (status, a) = answer(2, Some(2), &st, deleted, vec!["purged tag t".into()]);
        assert_eq!(
            (status, a.purge.complete, a.purge.next.as_str()),
            (200, true, "nothing")
        );
        assert_eq!(a.invalidated.model_version, None, "2 was current already");
        assert_eq!(
            (a.purge.purged_versions, a.purge.deleted_by_this_release),
            (vec![1], 3)
        );
        assert_eq!(a.invalidated.purge_api, "purged tag t");
        assert_eq!(a.invalidated.memory_dropped, 1);
    }

    #[test]
    fn a_release_purges_every_stored_version_but_the_current_one() {
        let s = PurgeState::for_release(3, &[1, 2, 3, 4], None);
        assert_eq!(s.pending, vec![1, 2, 4]);
        assert_eq!(s.current, 3);
        assert!(s.cursor.is_none());
    }

    #[test]
    fn a_retry_of_the_same_release_resumes_from_the_saved_cursor() {
        let mut s = PurgeState::for_release(2, &[1, 2], None);
        assert_eq!(s.next_page(1), Some((1, 1)));
        assert_eq!(s.page_done(1, Some("c1".into())), None);
        // The request fails here; the retry loads what was saved.
        let again = PurgeState::for_release(2, &[1, 2], Some(s.clone()));
        assert_eq!(again, s);
        assert_eq!(again.cursor.as_deref(), Some("c1"));
        let mut again = again;
        assert_eq!(again.page_done(5, None), Some(1));
        assert!(again.complete());
        assert_eq!((again.deleted, again.done.clone()), (6, vec![1]));
        // Once complete, releasing the same version again has nothing to do.
        let once_more = PurgeState::for_release(2, &[1, 2], Some(again.clone()));
        assert!(once_more.complete());
        assert_eq!(once_more.next_page(100), None);
    }

    #[test]
    fn an_unfinished_purge_is_carried_into_the_next_release() {
        let mut s = PurgeState::for_release(2, &[1, 2], None);
        s.page_done(3, Some("c".into()));
        // Version 3 is released before 1's purge finished: 1 is still purged, from its cursor,
        // and 2 (now old) too.
        let next = PurgeState::for_release(3, &[1, 2, 3], Some(s));
        assert_eq!(next.pending, vec![1, 2]);
        assert_eq!(next.cursor.as_deref(), Some("c"));
        // Re-releasing an older version purges the newer one.
        let back = PurgeState::for_release(1, &[1, 2, 3], Some(next));
        assert_eq!(back.pending, vec![2, 3]);
        assert_eq!(back.cursor, None, "the cursor belonged to version 1's keys");
    }

    #[test]
    fn pages_never_exceed_the_budget_or_kv_page() {
        let s = PurgeState::for_release(2, &[1], None);
        assert_eq!(s.next_page(0), None);
        assert_eq!(s.next_page(5000), Some((1, KV_PAGE)));
        assert_eq!(s.next_page(7), Some((1, 7)));
    }
}
