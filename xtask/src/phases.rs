//! Named, timed phases: every command prints how long each step took, and a table at the end,
//! so a slow CI run says where its time went.

use std::time::Instant;

use crate::Result;

/// Times named phases and prints a table at the end.
pub struct Phases {
    start: Instant,
    done: Vec<(String, f64, bool)>,
}

impl Phases {
    pub fn new() -> Self {
        Phases {
            start: Instant::now(),
            done: Vec::new(),
        }
    }
    pub fn run(&mut self, name: &str, f: impl FnOnce() -> Result) -> Result {
        println!("\n==> {name}");
        let t = Instant::now();
        let r = f();
        let secs = t.elapsed().as_secs_f64();
        println!(
            "<== {name}: {} in {secs:.1} s",
            if r.is_ok() { "ok" } else { "FAILED" }
        );
        self.done.push((name.to_string(), secs, r.is_ok()));
        r
    }
    pub fn summary(&self) {
        println!("\nphase timings:");
        for (name, secs, ok) in &self.done {
            println!(
                "  {:7.1} s  {}  {name}",
                secs,
                if *ok { "ok  " } else { "FAIL" }
            );
        }
        println!("  {:7.1} s  total", self.start.elapsed().as_secs_f64());
    }
}
