//! `waferscope stats`: each parametric test's statistics over the final dies (`stats` crate), as
//! JSON (`{"tests": [...]}`, the numbers the page shows) or as a table.

use stats::TestStats;

/// How the table is ordered.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Order {
    /// Catalogue order.
    Number,
    /// Most fails first ("what fails most").
    Fails,
    /// Lowest Cpk first ("what is closest to its limit"); tests without a Cpk last.
    Cpk,
}

pub fn sort(tests: &mut [TestStats], order: Order) {
    match order {
        Order::Number => {}
        Order::Fails => tests.sort_by_key(|t| std::cmp::Reverse(t.summary.fails)),
        Order::Cpk => tests.sort_by(|a, b| match (a.summary.cpk, b.summary.cpk) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => std::cmp::Ordering::Equal,
        }),
    }
}

pub fn json(tests: &[TestStats]) -> String {
    let mut s =
        serde_json::to_string_pretty(&stats::Report { tests }).expect("statistics serialise");
    s.push('\n');
    s
}

pub fn table(tests: &[TestStats]) -> String {
    let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.6}"));
    let mut out = format!(
        "{:>10}  {:<28} {:<6} {:>7} {:>6} {:>13} {:>13} {:>13} {:>13} {:>9}\n",
        "test", "name", "units", "count", "fails", "mean", "sigma", "min", "max", "cpk"
    );
    for t in tests {
        let s = &t.summary;
        let name: String = t.name.chars().take(28).collect();
        out.push_str(&format!(
            "{:>10}  {:<28} {:<6} {:>7} {:>6} {:>13} {:>13} {:>13} {:>13} {:>9}\n",
            t.number,
            name,
            t.units,
            s.count,
            s.fails,
            num(s.mean),
            num(s.sigma),
            num(s.min),
            num(s.max),
            s.cpk.map_or("—".to_string(), |c| format!("{c:.3}")),
        ));
    }
    if tests.is_empty() {
        out.push_str("no parametric results in this scope\n");
    }
    out
}
