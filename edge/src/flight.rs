//! Single-flight with a memory tier: concurrent requests for one cold key join one computation,
//! and its value stays in a byte-capped LRU for the next request.
//!
//! Followers wait on a plain channel, never on the leader's future. Workers bind I/O objects
//! (bodies, streams) to the request that made them; a follower polling the leader's future would
//! touch them from its own request ("Cannot perform I/O on behalf of a different request"). So
//! the leader does all I/O in its own request and sends the result. A follower gives up after
//! [`FOLLOWER_TIMEOUT_MS`] with 503 `busy`: a leader stuck on slow storage must not hold every
//! follower for as long as the runtime allows.
//!
//! Runtime-independent: the computation and the follower's timer are futures the caller hands
//! in (the glue's timer is a JS `setTimeout`; tests use channels), so this unit-tests natively.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;

use futures_channel::oneshot;
use futures_util::future::{Either, FutureExt, Shared, select};

use crate::error::ApiError;
use crate::lru::ByteLru;

/// How long a follower waits for the leader of its key before giving up with a 503.
pub const FOLLOWER_TIMEOUT_MS: u32 = 20_000;

/// What followers of an in-flight key wait on.
type Flight<T> = Shared<oneshot::Receiver<Result<T, ApiError>>>;

/// A memory tier: the keys in flight and the resolved values, in an LRU capped by bytes
/// (`weigh` sizes a value). One per kind of value (tiles, predictions, wafers, models).
pub struct Flights<T> {
    state: RefCell<State<T>>,
}

struct State<T> {
    flying: HashMap<String, Flight<T>>,
    done: ByteLru<T>,
    weigh: fn(&T) -> usize,
}

/// The answer of a follower whose leader took longer than [`FOLLOWER_TIMEOUT_MS`].
pub fn busy() -> ApiError {
    ApiError::new(
        503,
        "busy",
        format!(
            "this answer is being computed by another request and took over {} s; retry",
            FOLLOWER_TIMEOUT_MS / 1000
        ),
    )
}

impl<T: Clone + 'static> Flights<T> {
    pub fn new(cap_bytes: usize, weigh: fn(&T) -> usize) -> Self {
        Flights {
            state: RefCell::new(State {
                flying: HashMap::new(),
                done: ByteLru::new(cap_bytes),
                weigh,
            }),
        }
    }

    /// Whether `key`'s value is in memory (not counted as a use).
    pub fn holds(&self, key: &str) -> bool {
        self.state.borrow().done.contains(key)
    }

    /// Drop every key that fails `keep`, in flight or in memory; returns how many values were
    /// dropped from memory.
    pub fn retain(&self, keep: impl Fn(&str) -> bool) -> usize {
        let mut s = self.state.borrow_mut();
        s.flying.retain(|k, _| keep(k));
        s.done.retain(keep)
    }

    /// Run `make` once per key: the first caller (the leader) runs it; later callers wait for
    /// its result until `follower_timeout` resolves (then 503 [`busy`]), or take it at once when
    /// it is already in memory. Failures are not kept, so a retry computes again; if the leader
    /// goes away, a follower computes itself. The bool says whether the value was already in
    /// memory (a memory hit).
    pub async fn once<F, W>(
        &self,
        key: String,
        make: impl FnOnce() -> F,
        follower_timeout: impl FnOnce() -> W,
    ) -> (Result<T, ApiError>, bool)
    where
        F: Future<Output = Result<T, ApiError>>,
        W: Future<Output = ()>,
    {
        if let Some(v) = self.state.borrow_mut().done.get(&key) {
            return (Ok(v), true);
        }
        let flying = self.state.borrow().flying.get(&key).cloned();
        if let Some(f) = flying {
            let timeout = std::pin::pin!(follower_timeout());
            match select(f, timeout).await {
                Either::Left((Ok(out), _)) => return (out, false),
                // The leader was dropped (its client went away): lead ourselves.
                Either::Left((Err(oneshot::Canceled), _)) => {}
                Either::Right(_) => return (Err(busy()), false),
            }
        }
        let (tx, rx) = oneshot::channel();
        self.state
            .borrow_mut()
            .flying
            .insert(key.clone(), rx.shared());
        let out = make().await;
        {
            let mut s = self.state.borrow_mut();
            s.flying.remove(&key);
            if let Ok(v) = &out {
                let bytes = (s.weigh)(v);
                s.done.insert(key, v.clone(), bytes);
            }
        }
        let _ = tx.send(out.clone());
        (out, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_executor::LocalPool;
    use futures_util::task::LocalSpawnExt;
    use std::cell::Cell;
    use std::rc::Rc;

    type Out = (Result<u32, ApiError>, bool);

    /// An executor, a memory tier, and a count of computations.
    fn start() -> (LocalPool, Rc<Flights<u32>>, Rc<Cell<u32>>) {
        let f = Rc::new(Flights::new(1 << 10, |_| 8));
        (LocalPool::new(), f, Rc::new(Cell::new(0)))
    }

    /// A timer that never fires (the leader always answers in these tests).
    fn never() -> impl Future<Output = ()> {
        std::future::pending()
    }

    /// Spawn one caller of `once` for `key` whose computation waits for `gate` and yields `v`.
    fn caller(
        pool: &LocalPool,
        f: &Rc<Flights<u32>>,
        key: &str,
        gate: oneshot::Receiver<()>,
        v: Result<u32, ApiError>,
        made: &Rc<Cell<u32>>,
    ) -> Rc<RefCell<Option<Out>>> {
        let slot = Rc::new(RefCell::new(None));
        let (f, key, made, out) = (f.clone(), key.to_string(), made.clone(), slot.clone());
        pool.spawner()
            .spawn_local(async move {
                let make = || async move {
                    made.set(made.get() + 1);
                    let _ = gate.await;
                    v
                };
                *out.borrow_mut() = Some(f.once(key, make, never).await);
            })
            .unwrap();
        slot
    }

    /// One caller whose computation may finish at once: what it got, and the count after.
    fn settled(
        pool: &mut LocalPool,
        f: &Rc<Flights<u32>>,
        v: Result<u32, ApiError>,
        made: &Rc<Cell<u32>>,
    ) -> (Option<Out>, u32) {
        let r = caller(pool, f, "k", oneshot::channel().1, v, made);
        pool.run_until_stalled();
        let out = r.borrow().clone();
        (out, made.get())
    }

    #[test]
    fn concurrent_requests_for_one_cold_key_join_one_computation() {
        let (mut pool, f, made) = start();
        let (open, gate) = oneshot::channel();
        let leader = caller(&pool, &f, "k", gate, Ok(7), &made);
        let followers: Vec<_> = (0..50)
            .map(|_| caller(&pool, &f, "k", oneshot::channel().1, Ok(99), &made))
            .collect();
        pool.run_until_stalled();
        assert_eq!(made.get(), 1, "only the leader computes");
        assert!(leader.borrow().is_none(), "the leader is still computing");
        open.send(()).unwrap();
        pool.run_until_stalled();
        assert_eq!(*leader.borrow(), Some((Ok(7), false)));
        for r in &followers {
            assert_eq!(
                *r.borrow(),
                Some((Ok(7), false)),
                "followers get the leader's value"
            );
        }
        // Then it is a memory hit, computed no more.
        assert!(f.holds("k"));
        assert_eq!(
            settled(&mut pool, &f, Ok(1), &made),
            (Some((Ok(7), true)), 1)
        );
    }

    #[test]
    fn failures_are_shared_with_followers_but_not_kept() {
        let (mut pool, f, made) = start();
        let (open, gate) = oneshot::channel();
        let e = ApiError::internal("boom");
        let leader = caller(&pool, &f, "k", gate, Err(e.clone()), &made);
        let follower = caller(&pool, &f, "k", oneshot::channel().1, Ok(1), &made);
        pool.run_until_stalled();
        open.send(()).unwrap();
        pool.run_until_stalled();
        assert_eq!(*leader.borrow(), Some((Err(e.clone()), false)));
        assert_eq!(*follower.borrow(), Some((Err(e), false)));
        assert!(!f.holds("k"));
        assert_eq!(
            settled(&mut pool, &f, Ok(3), &made),
            (Some((Ok(3), false)), 2)
        );
    }

    #[test]
    fn a_follower_gives_up_with_503_busy_when_its_timer_fires() {
        let (mut pool, f, made) = start();
        let (_hold, gate) = oneshot::channel::<()>();
        let _leader = caller(&pool, &f, "k", gate, Ok(1), &made);
        let (fire, timer) = oneshot::channel::<()>();
        let out = Rc::new(RefCell::new(None));
        let (f2, out2) = (f.clone(), out.clone());
        pool.spawner()
            .spawn_local(async move {
                let make = || async { Ok(2) };
                let timeout = || timer.map(|_| ());
                *out2.borrow_mut() = Some(f2.once("k".into(), make, timeout).await);
            })
            .unwrap();
        pool.run_until_stalled();
        assert!(out.borrow().is_none(), "waits while the timer runs");
        fire.send(()).unwrap();
        pool.run_until_stalled();
        let (r, hit) = out.borrow_mut().take().unwrap();
        let e = r.unwrap_err();
        assert_eq!((e.status, e.error, hit), (503, "busy", false));
        assert!(e.detail.contains("20 s"), "{}", e.detail);
    }

    #[test]
    fn when_the_leader_goes_away_a_follower_computes_itself() {
        let (mut pool, f, made) = start();
        // A leader whose request is dropped mid-computation.
        let gone = {
            let (f, made) = (f.clone(), made.clone());
            async move {
                let make = || async move {
                    made.set(made.get() + 1);
                    std::future::pending::<Result<u32, ApiError>>().await
                };
                f.once("k".into(), make, never).await
            }
        };
        let mut gone = Box::pin(gone);
        assert!(
            pool.run_until(futures_util::future::poll_immediate(&mut gone))
                .is_none()
        );
        let follower = caller(&pool, &f, "k", oneshot::channel().1, Ok(5), &made);
        pool.run_until_stalled();
        assert!(follower.borrow().is_none(), "still waiting on the leader");
        drop(gone);
        // The follower's gate sender was dropped, so its own computation runs straight through.
        pool.run_until_stalled();
        assert_eq!(
            (follower.borrow().clone(), made.get()),
            (Some((Ok(5), false)), 2)
        );
    }

    #[test]
    fn retain_drops_other_keys_from_memory() {
        let (mut pool, f, made) = start();
        for k in ["pred:1:a", "pred:1:b", "pred:2:a"] {
            let (open, gate) = oneshot::channel();
            caller(&pool, &f, k, gate, Ok(1), &made);
            open.send(()).unwrap();
        }
        pool.run_until_stalled();
        assert_eq!(f.retain(|k| k.starts_with("pred:2:")), 2);
        assert!(f.holds("pred:2:a") && !f.holds("pred:1:a"));
    }
}
