//! `waferscope`: inspect, export and generate STDF wafer files from the command line.
//!
//! Exit status: 0 for a clean read, 3 for a partial read (output printed, warnings say where it
//! stopped), 2 for an unreadable file (one line on stderr: file, offset, reason), 1 for usage or
//! output errors.

mod classify;
mod info;
mod place;
mod report;
mod stats;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use wafer::TestFile;

#[derive(Parser)]
#[command(
    name = "waferscope",
    version,
    about = "Wafer maps from tester files (STDF V4, compressed or not)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Summarise a file: records, wafers, dies, bins, yield, warnings.
    Info {
        file: PathBuf,
        /// Machine-readable output.
        #[arg(long)]
        json: bool,
    },
    /// Write the final dies with bins and test values.
    Export {
        file: PathBuf,
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Only this wafer (by WAFER_ID); default: every wafer, then parts outside any wafer.
        #[arg(long)]
        wafer: Option<String>,
        /// Output file (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Draw a wafer map to PNG with the CPU rasterizer.
    Render {
        file: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        /// Which wafer (by WAFER_ID); default: the first.
        #[arg(long)]
        wafer: Option<String>,
        /// hbin, sbin or test:NUMBER (the names the app and the edge's tiles use).
        #[arg(long, default_value = "hbin", value_parser = api::LayerName::parse)]
        layer: api::LayerName,
        /// Width and height in pixels.
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(16..=8192))]
        size: u32,
        /// Only tile Z/X/Y of the square tile pyramid over the wafer (the edge serves these).
        #[arg(long)]
        tile: Option<String>,
    },
    /// Name each wafer's defect pattern (WM-811K classes) with the shipped classifier, with the
    /// probabilities and the FeatureHash.
    Classify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        /// A model folder (manifest.json + weights) instead of the built-in one.
        #[arg(long)]
        model: Option<PathBuf>,
    },
    /// Statistics of each parametric test over the final dies (one wafer's, or without --wafer
    /// every die the export writes): count, fails, mean, sigma, min/max, p05/p50/p95, Cp, Cpk.
    Stats {
        file: PathBuf,
        /// Only this test (by TEST_NUM).
        #[arg(long)]
        test: Option<u32>,
        /// Only this wafer (by WAFER_ID).
        #[arg(long)]
        wafer: Option<String>,
        /// Only the dies inside this rectangle of die coordinates, X0:X1,Y0:Y1 (ends included;
        /// needs --wafer): a selection on the map. The JSON then has its dies and yield too.
        #[arg(long, requires = "wafer", value_parser = place::parse_rect)]
        rect: Option<::stats::Rect>,
        /// Only the dies whose centres lie inside this closed path, X,Y;X,Y;... in die
        /// coordinates, fractions allowed (needs --wafer): a lasso drawn on the map.
        #[arg(long, requires = "wafer", conflicts_with = "rect", value_parser = place::parse_lasso)]
        lasso: Option<::stats::Lasso>,
        /// The table's order (JSON keeps catalogue order).
        #[arg(long, value_enum, default_value_t = stats::Order::Number)]
        sort: stats::Order,
        #[arg(long)]
        json: bool,
    },
    /// Yield and hard-bin mix by radial ring and by quadrant of each wafer (rings of equal width
    /// from the centre; dies within --edge dies of the edge excluded).
    Zones {
        file: PathBuf,
        #[arg(long)]
        wafer: Option<String>,
        #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(1..=20))]
        rings: u8,
        /// Edge exclusion, in dies.
        #[arg(long, default_value_t = 0.0)]
        edge: f32,
        /// The first pass (each retested die's first result) instead of the final dies.
        #[arg(long)]
        first_pass: bool,
        #[arg(long)]
        json: bool,
    },
    /// One self-contained HTML report of the files (a lot split across files is one report):
    /// maps, gallery with patterns, pareto, worst tests with histograms and box plots, zones,
    /// sites, retests. It opens offline in any browser.
    Report {
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[arg(short, long, default_value = "report.html")]
        output: PathBuf,
        /// Leave the patterns out (no classifier run).
        #[arg(long)]
        no_patterns: bool,
    },
    /// Yield per position inside the stepper's field (reticle): failures that repeat in every
    /// field show at one position.
    Reticle {
        file: PathBuf,
        #[arg(long)]
        wafer: Option<String>,
        /// The field in dies, and where one field's first die is: WxH or WxH+DX+DY.
        #[arg(long, value_parser = place::parse_reticle)]
        field: ::stats::ReticleSpec,
        #[arg(long)]
        json: bool,
    },
    /// Yield and hard-bin mix per probe site (head, site), and a test's statistics per site
    /// (site-to-site differences): one wafer's dies, or without --wafer every wafer's.
    Sites {
        file: PathBuf,
        #[arg(long)]
        wafer: Option<String>,
        /// Also this test's statistics per site (by TEST_NUM).
        #[arg(long)]
        test: Option<u32>,
        /// The first pass (each retested die's first result and bins) instead of the final dies.
        #[arg(long)]
        first_pass: bool,
        #[arg(long)]
        json: bool,
    },
    /// Score the classifier on labelled WM-811K-style maps (a JSON list, gzipped or not):
    /// accuracy, macro-F1, per-class recall, the confusion matrix, the calibration of the
    /// top probability (expected calibration error) and the calls (label, uncertain, ...).
    #[command(name = "eval-wm811k")]
    EvalWm811k {
        file: PathBuf,
        #[arg(long)]
        json: bool,
        #[arg(long)]
        model: Option<PathBuf>,
        /// Also write the reliability diagram (calibration of the top probability) as SVG.
        #[arg(long, value_name = "OUT.svg")]
        plot: Option<PathBuf>,
    },
    /// Write a few realistic synthetic wafer files (several bins, defect patterns, parametric
    /// tests, retests, one big-endian file, one gzipped).
    Demo {
        #[arg(short, long, default_value = "demo")]
        output: PathBuf,
        /// Instead, write one big wafer this many dies across (1130: a million dies), for
        /// benchmarks.
        #[arg(long, value_parser = clap::value_parser!(i16).range(4..=4000))]
        big: Option<i16>,
        /// Instead, write one lot file of this many wafers, each --big dies across (default 226:
        /// about 40,000 dies), for the gallery benchmark.
        #[arg(long, value_parser = clap::value_parser!(u16).range(1..=500))]
        lot: Option<u16>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ExportFormat {
    Csv,
    Json,
}

impl From<ExportFormat> for wafer::export::ExportFormat {
    fn from(f: ExportFormat) -> Self {
        match f {
            ExportFormat::Csv => wafer::export::ExportFormat::Csv,
            ExportFormat::Json => wafer::export::ExportFormat::Json,
        }
    }
}

/// Exit status for a partial read.
const PARTIAL: u8 = 3;
/// Exit status for an unreadable file.
const UNREADABLE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Info { file, json } => with_file(&file, |f| {
            let out = if json {
                let mut s = serde_json::to_string_pretty(&info::json(&file, f))
                    .expect("JSON values serialise");
                s.push('\n');
                s
            } else {
                info::human(&file, f)
            };
            io::stdout().write_all(out.as_bytes())
        }),
        Command::Export {
            file,
            format,
            wafer,
            output,
        } => with_file(&file, |f| {
            if let Some(id) = &wafer
                && f.wafer(id).is_none()
            {
                let ids: Vec<&str> = f.wafers.iter().map(|w| w.id.as_str()).collect();
                return Err(io::Error::other(format!(
                    "no wafer {id:?}; wafers: {ids:?}"
                )));
            }
            let sink: Box<dyn Write> = match &output {
                Some(p) => Box::new(File::create(p)?),
                None => Box::new(io::stdout().lock()),
            };
            let mut out = BufWriter::new(sink);
            wafer::export::write(f, format.into(), wafer.as_deref(), &mut out)?;
            out.flush()
        }),
        Command::Render {
            file,
            output,
            wafer,
            layer,
            size,
            tile,
        } => with_file(&file, |f| {
            let w = match &wafer {
                Some(id) => f.wafer(id),
                None => f.wafers.first(),
            };
            let Some(w) = w else {
                let ids: Vec<&str> = f.wafers.iter().map(|w| w.id.as_str()).collect();
                return Err(io::Error::other(format!("no such wafer; wafers: {ids:?}")));
            };
            let layer = paint::Layer::of_name(layer, f).map_err(io::Error::other)?;
            let canvas = match &tile {
                Some(t) => {
                    let colors = paint::Coloring::new(f, &w.dies, layer, &Default::default());
                    let g = paint::MapGeometry::new(w);
                    let zxy: Vec<u32> = t.split('/').filter_map(|n| n.parse().ok()).collect();
                    let [z, x, y] = zxy[..] else {
                        return Err(io::Error::other(format!("--tile {t}: expected Z/X/Y")));
                    };
                    let z = u8::try_from(z).map_err(|_| io::Error::other("zoom too large"))?;
                    paint::raster::tile(&g, &w.dies, &colors, z, x, y, size)
                        .map_err(io::Error::other)?
                }
                None => paint::raster::wafer_picture(f, w, layer, size),
            };
            std::fs::write(&output, canvas.encode_png())
        }),
        Command::Classify { file, json, model } => with_file(&file, |f| {
            let out = classify::classify(f, json, model.as_deref()).map_err(io::Error::other)?;
            io::stdout().write_all(out.as_bytes())
        }),
        Command::Stats {
            file,
            test,
            wafer,
            rect,
            lasso,
            sort,
            json,
        } => with_file(&file, |f| {
            let region = rect
                .map(::stats::Region::Rect)
                .or(lasso.clone().map(::stats::Region::Lasso));
            if let (Some(region), Some(id)) = (region, wafer.as_deref()) {
                let out = place::selection(f, id, region, test, json).map_err(io::Error::other)?;
                return io::stdout().write_all(out.as_bytes());
            }
            let mut tests =
                ::stats::of_file(f, wafer.as_deref(), test).map_err(io::Error::other)?;
            let out = if json {
                stats::json(&tests)
            } else {
                stats::sort(&mut tests, sort);
                stats::table(&tests)
            };
            io::stdout().write_all(out.as_bytes())
        }),
        Command::Zones {
            file,
            wafer,
            rings,
            edge,
            first_pass,
            json,
        } => with_file(&file, |f| {
            let spec = ::stats::ZoneSpec { rings, edge };
            let out = place::zones(f, wafer.as_deref(), spec, first_pass, json)
                .map_err(io::Error::other)?;
            io::stdout().write_all(out.as_bytes())
        }),
        Command::Report {
            files,
            output,
            no_patterns,
        } => match report::write(&files, &output, !no_patterns) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("waferscope: {e}");
                ExitCode::from(UNREADABLE)
            }
        },
        Command::Reticle {
            file,
            wafer,
            field,
            json,
        } => with_file(&file, |f| {
            let out = place::reticle(f, wafer.as_deref(), field, json).map_err(io::Error::other)?;
            io::stdout().write_all(out.as_bytes())
        }),
        Command::Sites {
            file,
            wafer,
            test,
            first_pass,
            json,
        } => with_file(&file, |f| {
            let out = place::sites(f, wafer.as_deref(), test, first_pass, json)
                .map_err(io::Error::other)?;
            io::stdout().write_all(out.as_bytes())
        }),
        Command::EvalWm811k {
            file,
            json,
            model,
            plot,
        } => match classify::eval(&file, json, model.as_deref(), plot.as_deref()) {
            Ok(out) => {
                let _ = io::stdout().write_all(out.as_bytes());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("waferscope: {e}");
                ExitCode::from(UNREADABLE)
            }
        },
        Command::Demo { output, big, lot } => match demo(&output, big, lot) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("waferscope: {}: {e}", output.display());
                ExitCode::FAILURE
            }
        },
    }
}

/// Read `path`, run `act` on it, and map the outcome to the documented exit status.
fn with_file(path: &Path, act: impl FnOnce(&TestFile) -> io::Result<()>) -> ExitCode {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("waferscope: {}: offset 0: cannot open: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    let parsed = match wafer::read_from(BufReader::with_capacity(1 << 16, file)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("waferscope: {}: {e}", path.display());
            return ExitCode::from(UNREADABLE);
        }
    };
    if let Err(e) = act(&parsed) {
        // A closed pipe (`| head`) is the reader's choice, not an error.
        if e.kind() != io::ErrorKind::BrokenPipe {
            eprintln!("waferscope: {e}");
            return ExitCode::FAILURE;
        }
    }
    for w in &parsed.warnings {
        if w.kind.stops_read() {
            eprintln!("waferscope: {}: partial read: {w}", path.display());
        }
    }
    if parsed.is_partial() {
        ExitCode::from(PARTIAL)
    } else {
        ExitCode::SUCCESS
    }
}

fn demo(dir: &Path, big: Option<i16>, lot: Option<u16>) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let files = match (lot, big) {
        (Some(n), d) => vec![wafer::demo::big_lot_file(n, d.unwrap_or(226))],
        (None, Some(d)) => vec![wafer::demo::big_wafer_file(d)],
        (None, None) => wafer::demo::demo_files(),
    };
    for f in files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.bytes)?;
        println!("{} ({} bytes)", path.display(), f.bytes.len());
    }
    Ok(())
}
