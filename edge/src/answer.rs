//! How an answer becomes a response: status, headers and body, decided here for every route.
//!
//! Every response says where it came from (`X-Cache` HIT for memory, Cache API or KV; MISS
//! otherwise; `Server-Timing` with the total and the tier), is `nosniff`, is `no-store` unless
//! its route said otherwise (immutable tiles, dies and weights; `no-cache` model info), varies by
//! `Origin`, and carries CORS headers for the app's origin only. Errors are `{"error","detail"}`
//! bodies with `Retry-After` where retrying helps (429, 503 `busy`). 304 and 204 have no body.
//!
//! Not here: what the body is (the handlers) or the runtime's `Response` (the glue builds it
//! from these parts in the request's own context).

use std::rc::Rc;

use crate::error::ApiError;
use crate::keys;
use crate::limits;
use crate::tiers::Tier;

/// `Cache-Control` of an answer that never changes under its URL.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// An answer before it becomes a response.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub status: u16,
    /// Shared with the memory tier: a hit serves the cached bytes without copying them.
    pub body: Rc<Vec<u8>>,
    pub content_type: &'static str,
    /// Where the body came from, for answers that are looked up.
    pub tier: Option<Tier>,
    /// Headers the route adds (a `Cache-Control` here replaces `no-store`).
    pub headers: Vec<(&'static str, String)>,
}

/// A response's parts: status, headers, body (none for 204 and 304).
pub type Parts = (u16, Vec<(String, String)>, Option<Rc<Vec<u8>>>);

impl Answer {
    /// A JSON body, its keys in the order `v` serialises them.
    pub fn json(status: u16, v: &impl serde::Serialize) -> Answer {
        Answer {
            status,
            body: Rc::new(serde_json::to_vec(v).unwrap_or_default()),
            content_type: "application/json",
            tier: None,
            headers: Vec::new(),
        }
    }

    /// A JSON body with its keys sorted (through a JSON value), as the edge has always written
    /// the bodies it assembled as values (uploads, listings, releases, health).
    pub fn json_sorted(status: u16, v: &impl serde::Serialize) -> Answer {
        Answer::json(status, &serde_json::to_value(v).unwrap_or_default())
    }

    /// A 200 of bytes looked up in `tier`.
    pub fn bytes(body: impl Into<Rc<Vec<u8>>>, content_type: &'static str, tier: Tier) -> Answer {
        Answer {
            status: 200,
            body: body.into(),
            content_type,
            tier: Some(tier),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, k: &'static str, v: impl Into<String>) -> Answer {
        self.headers.push((k, v.into()));
        self
    }

    /// 304 without the body when `If-None-Match` names `etag`.
    pub fn unless_matches(mut self, if_none_match: Option<&str>, etag: &str) -> Answer {
        if keys::etag_matches(if_none_match, etag) {
            self.status = 304;
            self.body = Rc::default();
        }
        self
    }

    /// The answer of an error: its JSON body, and `Retry-After` where a retry will help.
    pub fn error(e: &ApiError) -> Answer {
        let mut a = Answer::json(e.status, &());
        a.body = Rc::new(e.body().into_bytes());
        if e.status == 429 {
            a = a.header("Retry-After", limits::PREDICT_RATE_PERIOD_S.to_string());
        }
        if e.status == 503 && e.error == "busy" {
            a = a.header("Retry-After", "1");
        }
        a
    }

    /// The answer to a CORS preflight (`OPTIONS`): 204, with the CORS grants when the origin
    /// is allowed.
    pub fn preflight(allowed: bool) -> Answer {
        let a = Answer::json(204, &());
        if !allowed {
            return a;
        }
        a.header("Access-Control-Allow-Methods", "GET, PUT, POST")
            .header(
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type, If-None-Match",
            )
            .header("Access-Control-Max-Age", "86400")
    }

    /// The response's parts, `elapsed_ms` after the request came in, for a request from `cors`
    /// (an allowed origin) or none.
    pub fn into_parts(self, elapsed_ms: u64, cors: Option<&str>) -> Parts {
        let mut h: Vec<(String, String)> = Vec::new();
        let mut set = |k: &str, v: &str| h.push((k.to_string(), v.to_string()));
        set("Content-Type", self.content_type);
        let hit = self.tier.is_some_and(Tier::hit);
        set("X-Cache", if hit { "HIT" } else { "MISS" });
        // Workers' clock only moves across I/O, so this is I/O time; CPU time shows client-side.
        let mut timing = format!("total;dur={elapsed_ms}");
        if let Some(t) = self.tier {
            timing.push_str(&format!(", tier;desc=\"{}\"", t.name()));
        }
        set("Server-Timing", &timing);
        set("X-Content-Type-Options", "nosniff");
        for (k, v) in &self.headers {
            set(k, v);
        }
        if !self.headers.iter().any(|(k, _)| *k == "Cache-Control") {
            set("Cache-Control", "no-store");
        }
        // Every answer may differ by Origin (CORS headers or none), immutable tiles included: a
        // shared cache must not hand one origin's answer to another.
        set("Vary", "Origin");
        if let Some(o) = cors {
            set("Access-Control-Allow-Origin", o);
            set(
                "Access-Control-Expose-Headers",
                "X-Cache, Server-Timing, ETag, Retry-After",
            );
        }
        let body = (self.status != 304 && self.status != 204).then_some(self.body);
        (self.status, h, body)
    }
}

/// CORS for the app's origin only (`APP_ORIGIN`): the request's `Origin` when it is that one.
/// The app is normally served by this same worker, so most requests are same-origin.
pub fn allowed_origin(origin: Option<&str>, app_origin: Option<&str>) -> Option<String> {
    let origin = origin?;
    (Some(origin) == app_origin).then(|| origin.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'a>(p: &'a Parts, k: &str) -> Option<&'a str> {
        p.1.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
    }

    #[test]
    fn looked_up_answers_say_hit_or_miss_and_their_tier() {
        for (tier, x) in [
            (Tier::Memory, "HIT"),
            (Tier::Kv, "HIT"),
            (Tier::Computed, "MISS"),
        ] {
            let p = Answer::bytes(vec![1], "image/png", tier).into_parts(7, None);
            assert_eq!(header(&p, "X-Cache"), Some(x));
            let timing = format!("total;dur=7, tier;desc=\"{}\"", tier.name());
            assert_eq!(header(&p, "Server-Timing"), Some(timing.as_str()));
        }
        let p = Answer::json(200, &1).into_parts(0, None);
        assert_eq!(header(&p, "X-Cache"), Some("MISS"));
        assert_eq!(header(&p, "Server-Timing"), Some("total;dur=0"));
    }

    #[test]
    fn no_store_unless_the_route_says_otherwise_and_always_vary_origin() {
        let p = Answer::json(200, &1).into_parts(0, None);
        assert_eq!(header(&p, "Cache-Control"), Some("no-store"));
        let p = Answer::bytes(vec![], "image/png", Tier::Cache)
            .header("Cache-Control", IMMUTABLE)
            .into_parts(0, None);
        let controls: Vec<_> = p.1.iter().filter(|(k, _)| k == "Cache-Control").collect();
        assert_eq!(controls.len(), 1);
        assert_eq!(header(&p, "Cache-Control"), Some(IMMUTABLE));
        assert_eq!(header(&p, "Vary"), Some("Origin"));
        assert_eq!(header(&p, "X-Content-Type-Options"), Some("nosniff"));
        assert_eq!(header(&p, "Access-Control-Allow-Origin"), None);
    }

    #[test]
    fn cors_answers_the_app_origin_only() {
        let app = Some("https://app.example");
        assert_eq!(allowed_origin(app, app), app.map(String::from));
        assert_eq!(allowed_origin(Some("https://evil.example"), app), None);
        assert_eq!(allowed_origin(None, app), None);
        assert_eq!(allowed_origin(app, None), None);
        let p = Answer::json(200, &1).into_parts(0, app);
        assert_eq!(header(&p, "Access-Control-Allow-Origin"), app);
        assert!(
            header(&p, "Access-Control-Expose-Headers")
                .unwrap()
                .contains("X-Cache")
        );
        let pre = Answer::preflight(true).into_parts(0, app);
        assert_eq!((pre.0, pre.2.is_none()), (204, true));
        assert_eq!(header(&pre, "Access-Control-Max-Age"), Some("86400"));
        let refused = Answer::preflight(false).into_parts(0, None);
        assert_eq!(header(&refused, "Access-Control-Allow-Methods"), None);
    }

    #[test]
    fn errors_are_json_bodies_with_retry_after_where_retrying_helps() {
        let p = Answer::error(&ApiError::not_found("no wafer x")).into_parts(0, None);
        assert_eq!(p.0, 404);
        let body = String::from_utf8(p.2.clone().unwrap().to_vec()).unwrap();
        assert_eq!(body, r#"{"detail":"no wafer x","error":"not_found"}"#);
        assert_eq!(header(&p, "Retry-After"), None);
        let busy = Answer::error(&crate::flight::busy()).into_parts(0, None);
        assert_eq!((busy.0, header(&busy, "Retry-After")), (503, Some("1")));
        let limited = Answer::error(&limits::rate_limited()).into_parts(0, None);
        assert_eq!(header(&limited, "Retry-After"), Some("60"));
        let other = Answer::error(&crate::outage::unavailable("KV")).into_parts(0, None);
        assert_eq!(header(&other, "Retry-After"), None);
    }

    #[test]
    fn a_matching_etag_is_304_without_a_body() {
        let a = Answer::bytes(vec![1, 2], "image/png", Tier::Memory);
        let p = a
            .clone()
            .unless_matches(Some("\"e\""), "\"e\"")
            .into_parts(0, None);
        assert_eq!((p.0, p.2), (304, None));
        let p = a.unless_matches(Some("\"x\""), "\"e\"").into_parts(0, None);
        assert_eq!((p.0, p.2.map(|b| b.len())), (200, Some(2)));
    }
}
