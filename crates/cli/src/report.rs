//! `waferscope report FILE... -o report.html`: the `report` crate's HTML of the files, with each
//! wafer's pattern from the shipped classifier (as `classify` gives it).

use std::path::{Path, PathBuf};

use features::FeatureGrid;
use model::Call;

pub fn write(files: &[PathBuf], output: &Path, patterns: bool) -> Result<(), String> {
    let mut read = Vec::new();
    for path in files {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("{}: offset 0: cannot open: {e}", path.display()))?;
        let f = wafer::read(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        read.push((name, f));
    }
    let classifier = if patterns {
        Some(crate::classify::load(None)?.0)
    } else {
        None
    };
    let inputs: Vec<report::Input> = read
        .iter()
        .map(|(name, f)| report::Input {
            name,
            file: f,
            patterns: f
                .wafers
                .iter()
                .map(|w| {
                    let c = classifier.as_ref()?;
                    let g = FeatureGrid::from_dies(&w.dies).ok()?;
                    let p = c.predict(&[&g]).remove(0);
                    Some(Call::new(&p, Some(w.dies.len()), &g).text())
                })
                .collect(),
            file_stats: None,
        })
        .collect();
    let by = format!(
        "Written by waferscope {} report.",
        env!("CARGO_PKG_VERSION")
    );
    let html = report::html(&inputs, &report::Options::default(), &by);
    std::fs::write(output, html).map_err(|e| format!("{}: {e}", output.display()))?;
    println!(
        "{} ({} files, {} wafers)",
        output.display(),
        read.len(),
        read.iter().map(|r| r.1.wafers.len()).sum::<usize>()
    );
    Ok(())
}
