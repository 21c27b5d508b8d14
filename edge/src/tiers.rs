//! The tiered lookup of a cached answer, written once for tiles, predictions and stored dies:
//! this isolate's memory, then each storage tier fastest first (the Cache API, KV), then the
//! source (compute, or R2). A hit fills the faster tiers it skipped; a computed answer fills
//! them all, slowest first. Memory is also the in-flight map ([`crate::flight`]).
//!
//! A tier that only speeds things up is skippable: its failing read is a miss and its failing
//! write is ignored (KV for predictions, see [`crate::outage`]). A tier that is not (the Cache
//! API) answers with its error: 503 `unavailable` for a read, as the glue maps it.
//!
//! Not here: the runtime calls (the glue implements [`Store`] over the Cache API and KV) or
//! what a tier is keyed by ([`crate::keys`]).

use std::future::Future;
use std::rc::Rc;

use crate::error::ApiError;
use crate::flight::Flights;

/// Where an answer came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Memory,
    Cache,
    Kv,
    Storage,
    Computed,
}

impl Tier {
    /// The name `Server-Timing` reports.
    pub fn name(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Cache => "cache",
            Tier::Kv => "kv",
            Tier::Storage => "r2",
            Tier::Computed => "computed",
        }
    }

    /// `X-Cache`: a hit is anything served without computing or reading primary storage.
    pub fn hit(self) -> bool {
        matches!(self, Tier::Memory | Tier::Cache | Tier::Kv)
    }
}

/// One storage tier for one key.
pub trait Store {
    /// Which tier this is (what a hit on it reports).
    fn tier(&self) -> Tier;
    /// Whether a failing call is skipped (a miss, or a write not made) instead of answering.
    fn skippable(&self) -> bool;
    /// The bytes under this key, if held.
    fn get(&self) -> impl Future<Output = Result<Option<Vec<u8>>, ApiError>>;
    /// Keep `body` under this key.
    fn put(&self, body: &[u8]) -> impl Future<Output = Result<(), ApiError>>;
}

/// An answer's bytes (shared with the memory tier: a hit copies nothing) and where they came
/// from.
pub type Found = (Rc<Vec<u8>>, Tier);

/// Look `tiers` up fastest first, then `source` (answering as `from`); fill the faster tiers.
pub async fn through<S: Store>(
    tiers: &[S],
    from: Tier,
    source: impl Future<Output = Result<Vec<u8>, ApiError>>,
) -> Result<Found, ApiError> {
    for (i, t) in tiers.iter().enumerate() {
        match t.get().await {
            Ok(Some(b)) => {
                fill(&tiers[..i], &b).await?;
                return Ok((Rc::new(b), t.tier()));
            }
            Ok(None) => {}
            Err(_) if t.skippable() => {}
            Err(e) => return Err(e),
        }
    }
    let b = source.await?;
    fill(tiers, &b).await?;
    Ok((Rc::new(b), from))
}

/// Keep `body` in `tiers`, slowest first.
async fn fill<S: Store>(tiers: &[S], body: &[u8]) -> Result<(), ApiError> {
    for t in tiers.iter().rev() {
        match t.put(body).await {
            Err(e) if !t.skippable() => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// [`through`] behind the memory tier: once per key per isolate (concurrent callers join one
/// lookup), computed on a miss everywhere. A value already in memory answers as
/// [`Tier::Memory`]; a follower of an in-flight key answers as its leader's tier.
pub async fn lookup<S: Store, W: Future<Output = ()>>(
    memory: &Flights<Found>,
    key: String,
    tiers: Vec<S>,
    compute: impl Future<Output = Result<Vec<u8>, ApiError>>,
    follower_timeout: impl FnOnce() -> W,
) -> Result<Found, ApiError> {
    let make = move || async move { through(&tiers, Tier::Computed, compute).await };
    let (found, in_memory) = memory.once(key, make, follower_timeout).await;
    let (bytes, tier) = found?;
    Ok((bytes, if in_memory { Tier::Memory } else { tier }))
}

/// How the memory tier weighs an answer.
pub fn weigh((b, _): &Found) -> usize {
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::block_on;
    use std::cell::RefCell;

    /// An in-memory tier that logs every call and can be made to fail.
    struct Fake {
        tier: Tier,
        skippable: bool,
        held: RefCell<Option<Vec<u8>>>,
        fails: bool,
        log: Rc<RefCell<Vec<String>>>,
    }

    impl Store for Fake {
        fn tier(&self) -> Tier {
            self.tier
        }
        fn skippable(&self) -> bool {
            self.skippable
        }
        async fn get(&self) -> Result<Option<Vec<u8>>, ApiError> {
            self.log
                .borrow_mut()
                .push(format!("get {}", self.tier.name()));
            if self.fails {
                return Err(crate::outage::unavailable(self.tier.name()));
            }
            Ok(self.held.borrow().clone())
        }
        async fn put(&self, body: &[u8]) -> Result<(), ApiError> {
            self.log
                .borrow_mut()
                .push(format!("put {}", self.tier.name()));
            if self.fails {
                return Err(crate::outage::unavailable(self.tier.name()));
            }
            *self.held.borrow_mut() = Some(body.to_vec());
            Ok(())
        }
    }

    struct Setup {
        log: Rc<RefCell<Vec<String>>>,
        tiers: Vec<Fake>,
    }

    /// A Cache API tier (answers with its errors) and a KV tier (skippable), each holding
    /// `held` and failing when told.
    fn setup(cache: (Option<&str>, bool), kv: (Option<&str>, bool)) -> Setup {
        let log = Rc::new(RefCell::new(Vec::new()));
        let fake = |tier, skippable, (held, fails): (Option<&str>, bool)| Fake {
            tier,
            skippable,
            held: RefCell::new(held.map(|h| h.as_bytes().to_vec())),
            fails,
            log: log.clone(),
        };
        let tiers = vec![fake(Tier::Cache, false, cache), fake(Tier::Kv, true, kv)];
        Setup { log, tiers }
    }

    fn compute(log: &Rc<RefCell<Vec<String>>>) -> impl Future<Output = Result<Vec<u8>, ApiError>> {
        let log = log.clone();
        async move {
            log.borrow_mut().push("compute".into());
            Ok(b"fresh".to_vec())
        }
    }

    fn run(s: &Setup) -> Result<(String, Tier), ApiError> {
        let found = block_on(through(&s.tiers, Tier::Computed, compute(&s.log)))?;
        Ok((String::from_utf8(found.0.to_vec()).unwrap(), found.1))
    }

    fn log(s: &Setup) -> Vec<String> {
        s.log.borrow().clone()
    }

    fn held(s: &Setup, i: usize) -> Option<String> {
        s.tiers[i]
            .held
            .borrow()
            .as_ref()
            .map(|b| String::from_utf8(b.clone()).unwrap())
    }

    #[test]
    fn tiers_are_asked_fastest_first_and_the_first_hit_answers() {
        let s = setup((Some("cached"), false), (Some("kv"), false));
        assert_eq!(run(&s), Ok(("cached".into(), Tier::Cache)));
        assert_eq!(log(&s), ["get cache"]);
    }

    #[test]
    fn a_hit_fills_the_faster_tiers_it_skipped() {
        let s = setup((None, false), (Some("kv"), false));
        assert_eq!(run(&s), Ok(("kv".into(), Tier::Kv)));
        assert_eq!(log(&s), ["get cache", "get kv", "put cache"]);
        assert_eq!(held(&s, 0).as_deref(), Some("kv"));
    }

    #[test]
    fn a_miss_everywhere_computes_and_fills_every_tier_slowest_first() {
        let s = setup((None, false), (None, false));
        assert_eq!(run(&s), Ok(("fresh".into(), Tier::Computed)));
        assert_eq!(
            log(&s),
            ["get cache", "get kv", "compute", "put kv", "put cache"]
        );
        assert_eq!(
            (held(&s, 0), held(&s, 1)),
            (Some("fresh".into()), Some("fresh".into()))
        );
    }

    #[test]
    fn a_failing_skippable_tier_is_a_miss_and_its_failing_write_is_ignored() {
        let s = setup((None, false), (Some("kv"), true));
        assert_eq!(run(&s), Ok(("fresh".into(), Tier::Computed)));
        assert_eq!(
            log(&s),
            ["get cache", "get kv", "compute", "put kv", "put cache"]
        );
        assert_eq!(held(&s, 0).as_deref(), Some("fresh"));
    }

    #[test]
    fn a_failing_tier_that_cannot_be_skipped_answers_503_naming_it() {
        let s = setup((None, true), (Some("kv"), false));
        let e = run(&s).unwrap_err();
        assert_eq!((e.status, e.error), (503, "unavailable"));
        assert_eq!(log(&s), ["get cache"], "nothing further is tried");
    }

    #[test]
    fn a_source_that_fails_fills_nothing() {
        let s = setup((None, false), (None, false));
        let e = block_on(through(&s.tiers, Tier::Storage, async {
            Err(ApiError::not_found("no wafer"))
        }))
        .unwrap_err();
        assert_eq!(e.status, 404);
        assert_eq!(log(&s), ["get cache", "get kv"]);
    }

    #[test]
    fn memory_answers_first_once_filled_and_says_so() {
        let memory = Flights::new(1 << 20, weigh);
        let look = |s: Setup| {
            let never = || std::future::pending::<()>();
            let found = block_on(lookup(&memory, "k".into(), s.tiers, compute(&s.log), never));
            (found, s.log)
        };
        let (a, _) = look(setup((None, false), (None, false)));
        assert_eq!(a.map(|f| f.1), Ok(Tier::Computed));
        let (b, asked) = look(setup((Some("cached"), false), (None, false)));
        let b = b.unwrap();
        assert_eq!((&b.0[..], b.1), (&b"fresh"[..], Tier::Memory));
        assert!(asked.borrow().is_empty(), "no tier below memory is asked");
    }

    #[test]
    fn x_cache_hits_are_the_cache_tiers_only() {
        let hits: Vec<_> = [
            Tier::Memory,
            Tier::Cache,
            Tier::Kv,
            Tier::Storage,
            Tier::Computed,
        ]
        .into_iter()
        .map(|t| (t.name(), t.hit()))
        .collect();
        assert_eq!(
            hits,
            [
                ("memory", true),
                ("cache", true),
                ("kv", true),
                ("r2", false),
                ("computed", false)
            ]
        );
    }
}
