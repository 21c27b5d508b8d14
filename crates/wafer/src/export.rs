//! The final dies with bins and test values, as CSV or JSON (`waferscope export`, and the app's
//! "export CSV").
//!
//! Written row by row (never building the whole document), so a million dies with a thousand
//! tests each stream out in constant memory.

use std::io::{self, Write};

use crate::{DieTable, TestFile, Verdict};

/// Export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// The tables to export: (wafer id, dies).
fn tables<'a>(f: &'a TestFile, only: Option<&str>) -> Vec<(&'a str, &'a DieTable)> {
    let mut v: Vec<(&str, &DieTable)> = f
        .wafers
        .iter()
        .filter(|w| only.is_none_or(|id| w.id == id))
        .map(|w| (w.id.as_str(), &w.dies))
        .collect();
    if only.is_none() && !f.loose_parts.is_empty() {
        v.push(("", &f.loose_parts));
    }
    v
}

/// Catalogue indexes of tests with at least one value in the exported tables.
fn columns(f: &TestFile, tables: &[(&str, &DieTable)]) -> Vec<usize> {
    (0..f.tests.tests.len())
        .filter(|&t| tables.iter().any(|(_, d)| d.has_test(t)))
        .collect()
}

/// One exported cell of the fixed per-die fields.
enum Cell<'a> {
    Num(i64),
    Text(&'a str),
}

/// The fixed per-die fields, in export order (test values follow).
const DIE_FIELDS: [&str; 9] = [
    "x", "y", "hard_bin", "soft_bin", "verdict", "head", "site", "part_id", "attempts",
];

fn die_fields(d: &DieTable, i: usize) -> [Cell<'_>; 9] {
    use Cell::*;
    [
        Num(d.x[i].into()),
        Num(d.y[i].into()),
        Num(d.hard_bin[i].into()),
        Num(d.soft_bin[i].into()),
        Text(verdict(d.verdict[i])),
        Num(d.head[i].into()),
        Num(d.site[i].into()),
        Text(d.part_id.get(i)),
        Num(d.attempts[i].into()),
    ]
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "pass",
        Verdict::Fail => "fail",
        Verdict::Unknown => "unknown",
    }
}

pub fn write(
    f: &TestFile,
    format: ExportFormat,
    only: Option<&str>,
    out: &mut impl Write,
) -> io::Result<()> {
    let tables = tables(f, only);
    let cols = columns(f, &tables);
    match format {
        ExportFormat::Csv => csv(f, &tables, &cols, out),
        ExportFormat::Json => json(f, &tables, &cols, out),
    }
}

fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

fn csv(
    f: &TestFile,
    tables: &[(&str, &DieTable)],
    cols: &[usize],
    out: &mut impl Write,
) -> io::Result<()> {
    write!(
        out,
        "wafer,x,y,hard_bin,soft_bin,verdict,head,site,part_id,attempts"
    )?;
    for &t in cols {
        let info = &f.tests.tests[t];
        let mut h = format!("{}:{}", info.number, info.name);
        if !info.units.is_empty() {
            h += &format!(" [{}]", info.units);
        }
        write!(out, ",{}", csv_field(&h))?;
    }
    writeln!(out)?;
    for (id, d) in tables {
        let id = csv_field(id);
        for i in 0..d.len() {
            out.write_all(id.as_bytes())?;
            for cell in die_fields(d, i) {
                match cell {
                    Cell::Num(n) => write!(out, ",{n}")?,
                    Cell::Text(t) => write!(out, ",{}", csv_field(t))?,
                }
            }
            for &t in cols {
                let v = d.value(t, i);
                if v.is_finite() {
                    write!(out, ",{v}")?;
                } else {
                    out.write_all(b",")?;
                }
            }
            writeln!(out)?;
        }
    }
    Ok(())
}

/// A JSON string literal.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn opt(v: Option<f32>) -> String {
    v.filter(|v| v.is_finite())
        .map_or("null".into(), |v| v.to_string())
}

fn json(
    f: &TestFile,
    tables: &[(&str, &DieTable)],
    cols: &[usize],
    out: &mut impl Write,
) -> io::Result<()> {
    writeln!(out, "{{\"tests\": [")?;
    for (k, &t) in cols.iter().enumerate() {
        let i = &f.tests.tests[t];
        writeln!(
            out,
            "  {{\"number\": {}, \"name\": {}, \"units\": {}, \"lo_limit\": {}, \"hi_limit\": {}}}{}",
            i.number,
            js(&i.name),
            js(&i.units),
            opt(i.lo_limit),
            opt(i.hi_limit),
            if k + 1 < cols.len() { "," } else { "" }
        )?;
    }
    writeln!(out, "], \"dies\": [")?;
    let mut first = true;
    for (id, d) in tables {
        let id = js(id);
        for i in 0..d.len() {
            if !first {
                writeln!(out, ",")?;
            }
            first = false;
            write!(out, "  {{\"wafer\": {id}")?;
            for (name, cell) in DIE_FIELDS.iter().zip(die_fields(d, i)) {
                match cell {
                    Cell::Num(n) => write!(out, ", \"{name}\": {n}")?,
                    Cell::Text(t) => write!(out, ", \"{name}\": {}", js(t))?,
                }
            }
            write!(out, ", \"values\": {{")?;
            let mut sep = "";
            for &t in cols {
                let v = d.value(t, i);
                if v.is_finite() {
                    write!(out, "{sep}\"{}\": {v}", f.tests.tests[t].number)?;
                    sep = ", ";
                }
            }
            write!(out, "}}}}")?;
        }
    }
    writeln!(out, "\n]}}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        assert_eq!(js("a\"b\\c\nd\u{1}"), "\"a\\\"b\\\\c\\nd\\u0001\"");
    }

    #[test]
    fn csv_fields_with_commas_or_quotes_are_quoted() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
