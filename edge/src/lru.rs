//! A least-recently-used map capped by bytes, for the isolate's memory tiers.
//!
//! Capping by entry count let a tier of big entries (tiles of a large wafer, unpacked wafers)
//! outgrow the isolate's 128 MB; every entry here carries its size and the total stays under
//! the cap. An entry larger than the whole cap is not kept. Not a cache policy beyond that: no
//! expiry (entries are immutable by key).

use std::collections::{BTreeMap, HashMap};

pub struct ByteLru<V> {
    map: HashMap<String, (V, usize, u64)>,
    /// Use stamp -> key, oldest first.
    order: BTreeMap<u64, String>,
    bytes: usize,
    cap: usize,
    clock: u64,
}

impl<V: Clone> ByteLru<V> {
    pub fn new(cap: usize) -> Self {
        ByteLru {
            map: HashMap::new(),
            order: BTreeMap::new(),
            bytes: 0,
            cap,
            clock: 0,
        }
    }

    /// The value under `key`, marked as just used.
    pub fn get(&mut self, key: &str) -> Option<V> {
        self.clock += 1;
        let (v, _, stamp) = self.map.get_mut(key)?;
        self.order.remove(stamp);
        *stamp = self.clock;
        self.order.insert(self.clock, key.to_string());
        Some(v.clone())
    }

    /// Whether `key` is held (not counted as a use).
    pub fn contains(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// Keep `v` under `key`, `bytes` large (the key's length is added), evicting the least
    /// recently used entries until the total fits.
    pub fn insert(&mut self, key: String, v: V, bytes: usize) {
        self.remove(&key);
        let bytes = bytes.saturating_add(key.len());
        if bytes > self.cap {
            return;
        }
        while self.bytes + bytes > self.cap {
            let Some((_, old)) = self.order.pop_first() else {
                break;
            };
            if let Some((_, b, _)) = self.map.remove(&old) {
                self.bytes -= b;
            }
        }
        self.clock += 1;
        self.order.insert(self.clock, key.clone());
        self.map.insert(key, (v, bytes, self.clock));
        self.bytes += bytes;
    }

    pub fn remove(&mut self, key: &str) {
        if let Some((_, b, stamp)) = self.map.remove(key) {
            self.order.remove(&stamp);
            self.bytes -= b;
        }
    }

    /// Drop every entry whose key fails `keep`; returns how many were dropped.
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) -> usize {
        let gone: Vec<String> = self.map.keys().filter(|k| !keep(k)).cloned().collect();
        for k in &gone {
            self.remove(k);
        }
        gone.len()
    }

    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_stays_under_the_cap_evicting_the_least_recently_used() {
        let mut l = ByteLru::new(100);
        l.insert("a".into(), 1, 39); // 40 with the key
        l.insert("b".into(), 2, 39);
        assert_eq!(l.get("a"), Some(1)); // a is now newer than b
        l.insert("c".into(), 3, 39);
        assert_eq!(
            (l.get("b"), l.get("a"), l.get("c")),
            (None, Some(1), Some(3))
        );
        assert_eq!(l.bytes(), 80);
        // Too big for the whole cap: not kept, nothing evicted for it.
        l.insert("huge".into(), 4, 1000);
        assert_eq!((l.len(), l.contains("huge")), (2, false));
        // Replacing a key counts its new size only.
        l.insert("a".into(), 5, 9);
        assert_eq!((l.bytes(), l.get("a")), (50, Some(5)));
    }

    #[test]
    fn retain_drops_what_fails_and_frees_its_bytes() {
        let mut l = ByteLru::new(1000);
        for k in ["p:1:a", "p:1:b", "p:2:a"] {
            l.insert(k.into(), (), 10);
        }
        assert_eq!(l.retain(|k| k.starts_with("p:2:")), 2);
        assert_eq!((l.len(), l.bytes()), (1, 15));
        assert!(!l.is_empty());
    }
}
