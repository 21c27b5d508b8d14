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

    /// Two sequences of phases at once, each in a thread of its own, so that one's
    /// single-threaded stretches (test runs, libFuzzer, a fat-LTO link, wasm-opt) leave no core
    /// idle while the other has work. Their output interleaves line by line; each phase keeps
    /// its own time, marked `|` in the table, which gives the pair's wall time too. Each side
    /// stops at its own first failure; the other runs to its end.
    pub fn beside(
        &mut self,
        a: impl FnOnce(&mut Phases) -> Result + Send,
        b: impl FnOnce(&mut Phases) -> Result + Send,
    ) -> Result {
        let t = Instant::now();
        let (mut pa, mut pb) = (Phases::new(), Phases::new());
        let (ra, rb) = std::thread::scope(|s| {
            let ta = s.spawn(|| a(&mut pa));
            let rb = b(&mut pb);
            let ra = ta
                .join()
                .unwrap_or_else(|_| Err("a phase's thread panicked".into()));
            (ra, rb)
        });
        let ok = ra.is_ok() && rb.is_ok();
        for (name, secs, ok, _) in pa.done.into_iter().chain(pb.done) {
            self.done.push((name, secs, ok, true));
        }
        self.done.push((
            "  the phases marked |, side by side (wall)".into(),
            t.elapsed().as_secs_f64(),
            ok,
            false,
        ));
        ra.and(rb)
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
