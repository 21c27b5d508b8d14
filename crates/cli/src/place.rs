//! `waferscope zones`, `sites` and `stats --rect` / `--lasso`: where on the wafer (the `stats` crate's
//! `place` module), as JSON (the numbers the page shows) or as a table.

use serde_json::json;
use stats::{Lasso, Rect, Region, Tally, ZoneSpec};
use wafer::TestFile;

/// Rect from `X0:X1,Y0:Y1`, for clap.
pub fn parse_rect(s: &str) -> Result<Rect, String> {
    Rect::parse(s).ok_or_else(|| format!("{s:?}: expected X0:X1,Y0:Y1 in die coordinates"))
}

/// Lasso from `X,Y;X,Y;...`, for clap.
pub fn parse_lasso(s: &str) -> Result<Lasso, String> {
    Lasso::parse(s).ok_or_else(|| {
        format!("{s:?}: expected at least 3 points X,Y;X,Y;X,Y in (fractional) die coordinates")
    })
}

/// ReticleSpec from `WxH[+DX+DY]`, for clap.
pub fn parse_reticle(s: &str) -> Result<stats::ReticleSpec, String> {
    stats::ReticleSpec::parse(s)
        .ok_or_else(|| format!("{s:?}: expected WxH or WxH+DX+DY in dies (1 to 64 a side)"))
}

pub fn reticle(
    f: &TestFile,
    wafer: Option<&str>,
    spec: stats::ReticleSpec,
    json: bool,
) -> Result<String, String> {
    let ws = wafers(f, wafer)?;
    if json {
        return Ok(per_wafer(&ws, "reticle", |w| {
            json!(stats::place::reticle(&w.dies, spec))
        }));
    }
    let mut out = String::new();
    for w in ws {
        let r = stats::place::reticle(&w.dies, spec);
        out.push_str(&format!(
            "wafer {:?}: {} fields of {}x{} dies (first die at {}, {}); yield % by position, row by row:\n",
            w.id, r.fields, r.spec.width, r.spec.height, r.spec.offset[0], r.spec.offset[1]
        ));
        for row in r.positions.chunks(usize::from(r.spec.width)) {
            let cells: Vec<String> = row
                .iter()
                .map(|t| {
                    t.yield_
                        .map_or("    —".into(), |y| format!("{:5.1}", 100.0 * y))
                })
                .collect();
            out.push_str(&format!("  {}\n", cells.join(" ")));
        }
    }
    Ok(out)
}

/// `{"wafers": [{"wafer": ID, key: what(wafer)}, ...]}`, pretty.
fn per_wafer(
    ws: &[&wafer::Wafer],
    key: &str,
    what: impl Fn(&wafer::Wafer) -> serde_json::Value,
) -> String {
    let all: Vec<_> = ws
        .iter()
        .map(|w| {
            let mut o = serde_json::Map::new();
            o.insert("wafer".into(), json!(w.id));
            o.insert(key.into(), what(w));
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::to_string_pretty(&json!({ "wafers": all })).unwrap_or_default() + "\n"
}

fn wafers<'a>(f: &'a TestFile, id: Option<&str>) -> Result<Vec<&'a wafer::Wafer>, String> {
    match id {
        Some(id) => f
            .wafer(id)
            .map(|w| vec![w])
            .ok_or_else(|| format!("no wafer {id:?} in this file")),
        None if f.wafers.is_empty() => Err("the file has no wafers".into()),
        None => Ok(f.wafers.iter().collect()),
    }
}

fn pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |y| format!("{:.2}%", 100.0 * y))
}

/// The three bins with the most dies, "bin:dies".
fn top_bins(t: &Tally) -> String {
    let mut b: Vec<(&u16, &usize)> = t.bins.iter().collect();
    b.sort_by_key(|(bin, n)| (std::cmp::Reverse(**n), **bin));
    b.iter()
        .take(3)
        .map(|(bin, n)| format!("{bin}:{n}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn row(name: &str, t: &Tally) -> String {
    format!(
        "  {name:<10} {:>7} {:>9}   {}\n",
        t.dies,
        pct(t.yield_),
        top_bins(t)
    )
}

pub fn zones(
    f: &TestFile,
    wafer: Option<&str>,
    spec: ZoneSpec,
    first_pass: bool,
    json: bool,
) -> Result<String, String> {
    let ws = wafers(f, wafer)?;
    if json {
        return Ok(per_wafer(&ws, "zones", |w| {
            json!(stats::place::zones(w, spec, &counted(w, first_pass)))
        }));
    }
    let mut out = String::new();
    for w in ws {
        let z = stats::place::zones(w, spec, &counted(w, first_pass));
        out.push_str(&format!(
            "wafer {:?}: radius {:.1} dies, {} rings, edge exclusion {} dies{}\n  {:<10} {:>7} {:>9}   top bins\n",
            w.id,
            z.radius,
            z.spec.rings,
            z.spec.edge,
            if first_pass { ", first pass" } else { "" },
            "zone",
            "dies",
            "yield"
        ));
        for (k, t) in z.rings.iter().enumerate() {
            out.push_str(&row(&format!("ring {k}"), t));
        }
        for (q, t) in z.quadrants.iter().enumerate() {
            out.push_str(&row(stats::place::QUADRANTS[q], t));
        }
        out.push_str(&row("excluded", &z.excluded));
    }
    Ok(out)
}

pub fn sites(
    f: &TestFile,
    wafer: Option<&str>,
    test: Option<u32>,
    first_pass: bool,
    json: bool,
) -> Result<String, String> {
    let counted: Vec<_> = wafers(f, wafer)?
        .iter()
        .map(|w| counted(w, first_pass))
        .collect();
    let tables: Vec<&wafer::DieTable> = counted.iter().map(|c| c.as_ref()).collect();
    let chosen = match test {
        Some(n) => {
            let i = f
                .tests
                .find(n)
                .ok_or_else(|| format!("the file has no test number {n}"))?;
            Some((i, stats::limits(&f.tests.tests[i])))
        }
        None => None,
    };
    let sites = stats::place::sites(&tables, chosen);
    if json {
        return Ok(serde_json::to_string_pretty(&json!({ "sites": sites })).unwrap() + "\n");
    }
    let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.6}"));
    let mut out = format!(
        "{:>4} {:>4} {:>7} {:>9}   {:<22}{}\n",
        "head",
        "site",
        "dies",
        "yield",
        "top bins",
        if test.is_some() {
            format!("{:>7} {:>6} {:>13} {:>13}", "n", "fails", "mean", "sigma")
        } else {
            String::new()
        }
    );
    for s in &sites {
        let t = s.test.as_ref().map_or(String::new(), |t| {
            format!(
                "{:>7} {:>6} {:>13} {:>13}",
                t.count,
                t.fails,
                num(t.mean),
                num(t.sigma)
            )
        });
        out.push_str(&format!(
            "{:>4} {:>4} {:>7} {:>9}   {:<22}{t}\n",
            s.head,
            s.site,
            s.tally.dies,
            pct(s.tally.yield_),
            top_bins(&s.tally)
        ));
    }
    Ok(out)
}

/// `stats --rect`: the selection's dies and yield, and its tests' statistics.
pub fn selection(
    f: &TestFile,
    wafer: &str,
    region: Region,
    test: Option<u32>,
    json: bool,
) -> Result<String, String> {
    let w = f
        .wafer(wafer)
        .ok_or_else(|| format!("no wafer {wafer:?} in this file"))?;
    let rows = region.rows(&w.dies);
    let tally = Tally::of(&w.dies, rows.iter().copied());
    let tests = stats::of_rows(f, wafer, &rows, test).map_err(|e| e.to_string())?;
    if json {
        // The page's selection panel writes the same keys.
        let doc = match &region {
            Region::Rect(r) => json!({"rect": r, "selection": tally, "tests": tests}),
            Region::Lasso(l) => json!({"lasso": l.points, "selection": tally, "tests": tests}),
        };
        return Ok(serde_json::to_string_pretty(&doc).unwrap() + "\n");
    }
    Ok(format!(
        "selection {}: {} dies, yield {}, top bins {}\n{}",
        region.describe(),
        tally.dies,
        pct(tally.yield_),
        top_bins(&tally),
        crate::stats::table(&tests)
    ))
}

/// The dies `zones` and `sites` count: the final ones, or with `--first-pass` each retested
/// die's first attempt (bins and results).
fn counted(w: &wafer::Wafer, first_pass: bool) -> std::borrow::Cow<'_, wafer::DieTable> {
    if first_pass {
        std::borrow::Cow::Owned(w.first_pass_dies())
    } else {
        std::borrow::Cow::Borrowed(&w.dies)
    }
}
