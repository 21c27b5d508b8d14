//! The shareable report: one self-contained HTML file (inline CSS, pictures as data URLs, no
//! script, nothing fetched) that opens offline in any browser. `waferscope report` and the
//! page's "Report" export write it with this code, so both give the same file for the same lot.
//!
//! For each file: its lot facts; the gallery (every wafer's map, dies, yield and pattern); the
//! fail-bin pareto; the worst tests (most fails, lowest Cpk) with statistics, histogram and box
//! plots per wafer and per site; zones per wafer; probe sites; retests.

use std::fmt::Write;

use base64::Engine;
use paint::Layer;
use stats::{Tally, TestStats, ZoneSpec};
use wafer::{DieTable, TestFile};

/// One file of the lot, with what the classifier said of each wafer (None: not classified).
pub struct Input<'a> {
    pub name: &'a str,
    pub file: &'a TestFile,
    pub patterns: Vec<Option<String>>,
    /// Every test's statistics over the whole file (`stats::of_file(file, None, None)`), where
    /// the caller holds them already (the page's parsing worker computed them when the file
    /// came); None: the report computes them.
    pub file_stats: Option<&'a [TestStats]>,
}

/// What the report holds.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Worst tests shown, by fails and by Cpk each.
    pub worst: usize,
    /// Map pictures' side in pixels.
    pub map_px: u32,
    pub zones: ZoneSpec,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            worst: 5,
            map_px: 220,
            zones: ZoneSpec::default(),
        }
    }
}

/// Text made safe for HTML (also the page's, where it writes markup as a string).
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(y: Option<f64>) -> String {
    y.map_or("—".into(), |y| format!("{:.2}%", 100.0 * y))
}

fn num(v: Option<f64>) -> String {
    v.map_or("—".into(), charts::short)
}

fn png_data_url(file: &TestFile, w: &wafer::Wafer, px: u32) -> String {
    let canvas = paint::raster::wafer_picture(file, w, Layer::HardBin, px);
    let b64 = base64::engine::general_purpose::STANDARD.encode(canvas.encode_png());
    format!("data:image/png;base64,{b64}")
}

fn top_bins(t: &Tally) -> String {
    let mut b: Vec<(u16, usize)> = t.bins.iter().map(|(k, v)| (*k, *v)).collect();
    b.sort_by_key(|&(bin, n)| (std::cmp::Reverse(n), bin));
    b.iter()
        .take(3)
        .map(|(bin, n)| format!("{bin}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#1d1d22}\
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}\
h3{font-size:1rem}table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}\
td,th{padding:2px 6px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\
.gallery{display:flex;flex-wrap:wrap;gap:.6rem}.card{border:1px solid #ddd;border-radius:4px;padding:.4rem;text-align:center;font-size:.8rem}\
.card img{display:block;margin:0 auto .2rem}.charts{display:flex;flex-wrap:wrap;gap:.5rem}.muted{color:#6b6b75}";

/// The report of `inputs` as one HTML document.
pub fn html(inputs: &[Input], o: &Options, generated_by: &str) -> String {
    let mut h = String::new();
    let names: Vec<String> = inputs.iter().map(|i| esc(i.name)).collect();
    let _ = write!(
        h,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Waferscope report: {}</title><style>{STYLE}</style></head><body>",
        names.join(", ")
    );
    let wafers: usize = inputs.iter().map(|i| i.file.wafers.len()).sum();
    let _ = write!(
        h,
        "<h1>Waferscope report</h1><p class=\"muted\">{} file(s), {wafers} wafer(s). {}</p>",
        inputs.len(),
        esc(generated_by)
    );
    for input in inputs {
        file_section(&mut h, input, o);
    }
    h.push_str("</body></html>\n");
    h
}

fn file_section(h: &mut String, input: &Input, o: &Options) {
    let f = input.file;
    let m = &f.meta;
    let _ = write!(
        h,
        "<section class=\"file\"><h2>{}</h2><p>lot {} · part {} · tester {} ({}) · job {} · {} wafers · {} tests</p>",
        esc(input.name),
        esc(&m.lot_id),
        esc(&m.part_type),
        esc(&m.tester_node),
        esc(&m.tester_type),
        esc(&m.job_name),
        f.wafers.len(),
        f.tests.tests.len()
    );
    for w in &f.warnings {
        let _ = write!(h, "<p class=\"muted\">warning: {}</p>", esc(&w.to_string()));
    }

    // Gallery.
    h.push_str("<h3>Wafers</h3><div class=\"gallery\">");
    for (i, w) in f.wafers.iter().enumerate() {
        let pattern = input.patterns.get(i).cloned().flatten().unwrap_or_default();
        let _ = write!(
            h,
            "<div class=\"card wafer\" data-wafer=\"{id}\"><img alt=\"wafer {id}\" width=\"{px}\" height=\"{px}\" src=\"{src}\"><b>{id}</b><br>{} dies · yield {}<br><span class=\"muted\">{}</span></div>",
            w.dies.len(),
            pct(w.yield_fraction()),
            esc(&pattern),
            id = esc(&w.id),
            px = o.map_px,
            src = png_data_url(f, w, o.map_px),
        );
    }
    h.push_str("</div>");

    // Pareto of fail bins over every final die, as the page draws it.
    let all: Vec<&DieTable> = f.wafers.iter().map(|w| &w.dies).collect();
    let pareto: Vec<(String, f64)> = stats::place::fail_pareto(&all)
        .into_iter()
        .take(10)
        .map(|(b, n)| {
            let name = f.bins.hard.get(&b).map_or("", |i| i.name.as_str());
            (format!("{b} {name}"), n as f64)
        })
        .collect();
    if let Ok(svg) = charts::bars(
        "fail bins (final dies)",
        &pareto,
        (520, 40 + 22 * pareto.len() as u32),
    ) {
        let _ = write!(
            h,
            "<h3>Fail-bin pareto</h3><div class=\"chart pareto\">{svg}</div>"
        );
    }

    worst_tests(h, f, input.file_stats, o);

    // Zones and retests per wafer.
    h.push_str("<h3>Zones</h3><table><tr><th>wafer</th>");
    for k in 0..o.zones.rings {
        let _ = write!(h, "<th>ring {k}</th>");
    }
    for q in stats::place::QUADRANTS {
        let _ = write!(h, "<th>{q}</th>");
    }
    h.push_str("<th>excluded</th></tr>");
    for w in &f.wafers {
        let z = stats::place::zones(w, o.zones, &w.dies);
        let _ = write!(h, "<tr class=\"zones\"><td>{}</td>", esc(&w.id));
        for t in z.rings.iter().chain(&z.quadrants).chain([&z.excluded]) {
            let _ = write!(
                h,
                "<td class=\"n\" title=\"{} dies\">{}</td>",
                t.dies,
                pct(t.yield_)
            );
        }
        h.push_str("</tr>");
    }
    let _ = write!(
        h,
        "</table><p class=\"muted\">Yield per ring ({} rings of equal width, ring 0 at the centre, edge exclusion {} dies) and quadrant.</p>",
        o.zones.rings, o.zones.edge
    );
    let retested: Vec<_> = f
        .wafers
        .iter()
        .filter(|w| !w.first_pass.is_empty())
        .collect();
    if !retested.is_empty() {
        h.push_str("<h3>Retests</h3><table><tr><th>wafer</th><th>retested</th><th>bin changed</th><th>fail → pass</th><th>pass → fail</th><th>first-pass yield</th><th>final yield</th></tr>");
        for w in retested {
            let r = stats::place::retests(w, &w.first_pass_dies());
            let _ = write!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&w.id),
                r.retested,
                r.changed,
                r.recovered,
                r.lost,
                pct(r.first.yield_),
                pct(r.last.yield_)
            );
        }
        h.push_str("</table>");
    }

    // Sites over the whole file.
    let sites = stats::place::sites(&all, None);
    h.push_str("<h3>Probe sites</h3><table><tr><th>head</th><th>site</th><th>dies</th><th>yield</th><th>top bins</th></tr>");
    for s in &sites {
        let _ = write!(
            h,
            "<tr class=\"site\"><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            s.head,
            s.site,
            s.tally.dies,
            pct(s.tally.yield_),
            top_bins(&s.tally)
        );
    }
    h.push_str("</table></section>");
}

/// The tests that fail most and those closest to their limits, with their charts.
fn worst_tests(h: &mut String, f: &TestFile, held: Option<&[TestStats]>, o: &Options) {
    let computed;
    let all = match held {
        Some(all) => all,
        None => {
            computed = stats::of_file(f, None, None).unwrap_or_default();
            &computed[..]
        }
    };
    let mut by_fails: Vec<&TestStats> = all.iter().filter(|t| t.summary.fails > 0).collect();
    by_fails.sort_by_key(|t| std::cmp::Reverse(t.summary.fails));
    let mut by_cpk: Vec<&TestStats> = all.iter().filter(|t| t.summary.cpk.is_some()).collect();
    by_cpk.sort_by(|a, b| {
        a.summary
            .cpk
            .unwrap_or(0.0)
            .total_cmp(&b.summary.cpk.unwrap_or(0.0))
    });
    let mut chosen: Vec<&TestStats> = Vec::new();
    for t in by_fails
        .into_iter()
        .take(o.worst)
        .chain(by_cpk.into_iter().take(o.worst))
    {
        if !chosen.iter().any(|c| c.number == t.number) {
            chosen.push(t);
        }
    }
    if chosen.is_empty() {
        return;
    }
    h.push_str("<h3>Worst tests</h3><table><tr><th>test</th><th>name</th><th>units</th><th>n</th><th>fails</th><th>mean</th><th>σ</th><th>min</th><th>max</th><th>Cpk</th></tr>");
    for t in &chosen {
        let s = &t.summary;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            t.number,
            esc(&t.name),
            esc(&t.units),
            s.count,
            s.fails,
            num(s.mean),
            num(s.sigma),
            num(s.min),
            num(s.max),
            s.cpk.map_or("—".into(), |c| format!("{c:.3}"))
        );
    }
    h.push_str("</table>");
    for t in chosen {
        let Some(i) = f.tests.find(t.number) else {
            continue;
        };
        let info = &f.tests.tests[i];
        let (low, high) = (info.lo_limit.map(f64::from), info.hi_limit.map(f64::from));
        let values: Vec<f64> = f
            .wafers
            .iter()
            .flat_map(|w| w.dies.values(i).map(f64::from))
            .collect();
        let _ = write!(h, "<div class=\"charts test\" data-test=\"{}\">", t.number);
        let title = format!("test {} {}", t.number, t.name);
        if let Ok(c) = charts::histogram(&title, &values, low, high, (360, 200)) {
            h.push_str(&c.svg);
        }
        if f.wafers.len() > 1 {
            let groups: Vec<(String, stats::BoxStats)> = f
                .wafers
                .iter()
                .filter_map(|w| {
                    Some((
                        w.id.clone(),
                        stats::BoxStats::of(w.dies.values(i).map(f64::from))?,
                    ))
                })
                .collect();
            if let Ok(svg) = charts::boxplots("per wafer", &groups, low, high, (360, 200)) {
                h.push_str(&svg);
            }
        }
        let mut sites: std::collections::BTreeMap<u8, Vec<f64>> = Default::default();
        for w in &f.wafers {
            for (&site, v) in w.dies.site.iter().zip(w.dies.values(i)) {
                sites.entry(site).or_default().push(f64::from(v));
            }
        }
        if sites.len() > 1 {
            let groups: Vec<(String, stats::BoxStats)> = sites
                .into_iter()
                .filter_map(|(s, v)| Some((format!("site {s}"), stats::BoxStats::of(v)?)))
                .collect();
            if let Ok(svg) = charts::boxplots("per site", &groups, low, high, (360, 200)) {
                h.push_str(&svg);
            }
        }
        h.push_str("</div>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_is_one_html_file_with_every_wafer_and_nothing_to_fetch() {
        let f = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
        let patterns = vec![Some("Edge-Ring 91%".to_string()), None, None];
        let html = html(
            &[Input {
                name: "demo <1>.stdf",
                file: &f,
                patterns: patterns.clone(),
                file_stats: None,
            }],
            &Options::default(),
            "test",
        );
        // Statistics the caller holds already give the same report.
        let held = stats::of_file(&f, None, None).unwrap();
        let again = super::html(
            &[Input {
                name: "demo <1>.stdf",
                file: &f,
                patterns,
                file_stats: Some(&held),
            }],
            &Options::default(),
            "test",
        );
        assert_eq!(again, html);
        assert!(html.starts_with("<!doctype html>"));
        assert_eq!(html.matches("<div class=\"card wafer\"").count(), 3);
        assert_eq!(html.matches("src=\"data:image/png;base64,").count(), 3);
        assert!(html.contains("demo &lt;1&gt;.stdf"), "names are escaped");
        assert!(html.contains("Edge-Ring 91%"));
        assert!(html.contains("Worst tests") && html.contains("<svg"));
        assert!(html.contains("Retests"), "the demo has retests");
        // Nothing outside the file: no script, no link, no remote source (the SVG namespace
        // is a name, not a fetch).
        let bare = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        for bad in [
            "<script", "<link", "http://", "https://", "src=\"/", "href=", "url(",
        ] {
            assert!(!bare.contains(bad), "{bad}");
        }
    }
}
