//! Named, timed phases: every command prints how long each step took, and a table at the end,
//! so a slow CI run says where its time went.

use std::time::Instant;

use crate::Result;

/// Times named phases and prints a table at the end.
pub struct Phases {
    start: Instant,
    /// (name, seconds, ok, ran beside another phase)
    done: Vec<(String, f64, bool, bool)>,
}

impl Phases {
    pub fn new() -> Self {
        Phases {
            start: Instant::now(),
            done: Vec::new(),
        }
    }
    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        let (secs, r) = timed(name, f);
        self.done.push((name.to_string(), secs, r.is_ok(), false));
        r
    }

    /// Two phases at once, each in a thread of its own, for builds whose long single-threaded
    /// stretches (a fat-LTO link, wasm-opt) leave the other core idle. Their output interleaves
    /// line by line; each keeps its own time, and the table gives the pair's wall time too.
    pub fn run_beside(
        &mut self,
        (a, fa): (&str, impl FnOnce() -> Result + Send),
        (b, fb): (&str, impl FnOnce() -> Result + Send),
    ) -> Result {
        let t = Instant::now();
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| timed(a, fa));
            let rb = timed(b, fb);
            let ra = ta
                .join()
                .unwrap_or_else(|_| (0.0, Err(format!("{a}: the phase's thread panicked"))));
            (ra, rb)
        });
        let ok = ra.1.is_ok() && rb.1.is_ok();
        self.done.push((a.to_string(), ra.0, ra.1.is_ok(), true));
        self.done.push((b.to_string(), rb.0, rb.1.is_ok(), true));
        self.done.push((
            "  the two above, side by side (wall)".into(),
            t.elapsed().as_secs_f64(),
            ok,
            false,
        ));
        ra.1.and(rb.1)
    }
    pub fn summary(&self) {
        println!("\nphase timings:");
        for (name, secs, ok, beside) in &self.done {
            println!(
                "  {:7.1} s  {}{} {name}",
                secs,
                if *ok { "ok  " } else { "FAIL" },
                if *beside { "|" } else { " " },
            );
        }
        println!("  {:7.1} s  total", self.start.elapsed().as_secs_f64());
    }
}

/// Run one phase between its start and end lines.
fn timed(name: &str, f: impl FnOnce() -> Result) -> (f64, Result) {
    println!("\n==> {name}");
    let t = Instant::now();
    let r = f();
    let secs = t.elapsed().as_secs_f64();
    println!(
        "<== {name}: {} in {secs:.1} s",
        if r.is_ok() { "ok" } else { "FAILED" }
    );
    (secs, r)
}
