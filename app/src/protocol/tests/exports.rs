//! The exports the worker writes: the CLI's report and CSV, the rasterizer's pictures, and
//! bad asks as errors.

use super::*;

#[test]
fn an_export_writes_the_report_and_the_csv_the_cli_writes() {
    let file = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let first = file.wafers[0].id.clone();
    let report = Export::Report {
        name: "lot1.stdf".into(),
        patterns: vec![Some("Edge-Ring 97%".into()), None],
    };
    // The worker hands the file's statistics it holds (the last of `stats::scopes`): the same
    // report as the CLI's, which computes them.
    let scopes = stats::scopes(&file);
    let held = scopes.last().map(|s| &s.tests[..]);
    let (html, mime) = report.write(&file, held).unwrap();
    assert_eq!(mime, "text/html");
    let input = report::Input {
        name: "lot1.stdf",
        file: &file,
        patterns: vec![Some("Edge-Ring 97%".into()), None],
        file_stats: None,
    };
    let by = "Written by the Waferscope page.";
    let same = report::html(&[input], &report::Options::default(), by);
    assert_eq!(String::from_utf8(html).unwrap(), same);
    assert!(same.contains("Edge-Ring 97%"));

    // One wafer's CSV: its dies only, as `waferscope export --wafer` writes them.
    let (csv, mime) = Export::Csv {
        wafer: Some(first.clone()),
    }
    .write(&file, None)
    .unwrap();
    assert_eq!(mime, "text/csv");
    let mut cli = Vec::new();
    let format = wafer::export::ExportFormat::Csv;
    wafer::export::write(&file, format, Some(&first), &mut cli).unwrap();
    assert_eq!(csv, cli);
    let rows = csv.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(
        rows,
        file.wafers[0].dies.len() + 1,
        "a header and a row per die"
    );
    let (all, _) = Export::Csv { wafer: None }.write(&file, None).unwrap();
    assert!(all.len() > 2 * csv.len(), "every wafer of the lot");
}

#[test]
fn a_map_export_is_the_rasterizers_png_and_bad_ones_are_errors() {
    use paint::palette::Layer;
    let file = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let map = |wafer, layer, side| Export::Map { wafer, layer, side }.write(&file, None);
    let (png, mime) = map(1, Layer::SoftBin, 112).unwrap();
    assert_eq!(mime, "image/png");
    // What the page drew itself before: the same rasterizer, palette and geometry.
    let w = &file.wafers[1];
    let coloring =
        paint::palette::Coloring::new(&file, &w.dies, Layer::SoftBin, &Default::default());
    let g = paint::geometry::MapGeometry::new(w);
    let canvas = paint::raster::render(&g, &w.dies, &coloring, 112, 112, &Default::default());
    assert_eq!(png, canvas.encode_png());
    // 112 x 112, as the PNG header says.
    assert_eq!(&png[16..24], &[0, 0, 0, 112, 0, 0, 0, 112]);
    let tests = file.tests.tests.len();
    assert!(tests > 0);
    assert!(map(0, Layer::Test(tests - 1), 64).is_ok());
    let wafers = file.wafers.len();
    for (wafer, layer, side, says) in [
        (wafers, Layer::HardBin, 64, "no wafer"),
        (0, Layer::Test(tests), 64, "no test"),
        (0, Layer::HardBin, 0, "pixels"),
        (
            0,
            Layer::HardBin,
            crate::protocol::MAX_MAP_SIDE + 1,
            "pixels",
        ),
    ] {
        let e = map(wafer, layer, side).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}

#[test]
fn a_map_export_with_an_unknown_layer_is_refused() {
    let mut w = ToWorker::<Map>::Export {
        seq: 1,
        id: 2,
        export: Export::Map {
            wafer: 0,
            layer: paint::palette::Layer::HardBin,
            side: 8,
        },
    }
    .encode();
    for bad in ["test#", "test#x", "bins", "test:3"] {
        w.put_str("layer", bad);
        assert_eq!(
            ToWorker::decode(&w),
            Err(DecodeError::Missing {
                kind: "export",
                field: "layer"
            }),
            "{bad}"
        );
    }
}

/// Wafer `i`'s colours as the page makes them, with bin 1 hidden (greyed), as an export of the
/// map on screen asks.
fn shown(file: &wafer::TestFile, i: usize) -> paint::Coloring {
    let hidden = BTreeSet::from([1]);
    paint::Coloring::new(file, &file.wafers[i].dies, paint::Layer::HardBin, &hidden)
}

#[test]
fn a_view_export_is_the_map_as_the_page_colours_and_places_it() {
    let file = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let c = shown(&file, 1);
    let g = paint::MapGeometry::new(&file.wafers[1]);
    // Zoomed in off-centre, as after a pan: not the fitted view.
    let fit = paint::View::fit(&g, 300, 200);
    let view = paint::View {
        scale: fit.scale * 2.5,
        offset: [fit.offset[0] - 120.0, fit.offset[1] + 40.0],
    };
    let export = |selected| Export::View {
        wafer: Some(1),
        table: c.table.clone(),
        keys: c.keys.clone(),
        view,
        width: 300,
        height: 200,
        selected,
    };
    let (png, mime) = export(Some(5)).write(&file, None).unwrap();
    assert_eq!(mime, "image/png");
    // What the page drew itself before: the same rasterizer, colours, view and outline.
    let mut canvas = paint::Canvas::new(300, 200, paint::palette::BACKGROUND);
    let style = paint::Style {
        selected: Some(5),
        ..Default::default()
    };
    paint::raster::draw(&g, &file.wafers[1].dies, &c, &view, &mut canvas, &style);
    assert_eq!(png, canvas.encode_png());
    assert_eq!(&png[16..24], &[0, 0, 1, 44, 0, 0, 0, 200], "300 x 200");
    // Die 5 is in this view: without its outline the picture differs.
    let unmarked = export(None).write(&file, None).unwrap().0;
    assert_ne!(png, unmarked, "die 5 outlined");
    // The message carries it whole, colours and keys as floats.
    round_trips(export(Some(5)));
}

#[test]
fn a_view_export_of_the_stack_is_the_stacked_map() {
    let file = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let tables: Vec<_> = file.wafers.iter().map(|w| &w.dies).collect();
    let stack = crate::doc::Stack::from_counts(crate::doc::stack::tally(&tables));
    let c = paint::Coloring::values(&stack.fail_pct, Some(0.0), Some(100.0));
    let g = stack.geometry(&file);
    let view = paint::View::fit(&g, 240, 240);
    let export = Export::View {
        wafer: None,
        table: c.table.clone(),
        keys: c.keys.clone(),
        view,
        width: 240,
        height: 240,
        selected: None,
    };
    let (png, _) = export.write(&file, None).unwrap();
    let canvas = paint::raster::render(&g, &stack.dies, &c, 240, 240, &Default::default());
    assert_eq!(png, canvas.encode_png());
    // No wafer and no marked die travel as such, not as wafer 0 or die 0.
    round_trips(export);
}

/// `export` decodes from its message as it was sent.
fn round_trips(export: Export) {
    let to = ToWorker::<Map>::Export {
        seq: 2,
        id: 9,
        export: export.clone(),
    };
    let back = ToWorker::Export {
        seq: 2,
        id: 9,
        export,
    };
    assert_eq!(ToWorker::decode(&to.encode()), Ok(back));
}

#[test]
fn a_bad_view_export_is_an_error_that_says_why() {
    let file = wafer::read(&wafer::demo::demo_files()[0].bytes).unwrap();
    let c = shown(&file, 0);
    let fit = paint::View::fit(&paint::MapGeometry::new(&file.wafers[0]), 64, 64);
    let export = |wafer, table: &[paint::Rgba], keys: &[u16], scale, (width, height), selected| {
        Export::View {
            wafer,
            table: table.to_vec(),
            keys: keys.to_vec(),
            view: paint::View { scale, ..fit },
            width,
            height,
            selected,
        }
        .write(&file, None)
    };
    let (t, k, s) = (&c.table[..], &c.keys[..], fit.scale);
    assert!(export(Some(0), t, k, s, (64, 64), None).is_ok());
    let wafers = file.wafers.len();
    for (result, says) in [
        (export(Some(wafers), t, k, s, (64, 64), None), "no wafer"),
        (
            export(Some(0), t, &k[..3], s, (64, 64), None),
            "colours for 3 dies",
        ),
        (
            export(Some(0), &t[..1], k, s, (64, 64), None),
            "of a table of 1",
        ),
        (export(Some(0), t, k, s, (0, 64), None), "pixels"),
        (export(Some(0), t, k, s, (8193, 10), None), "pixels"),
        (export(Some(0), t, k, s, (8192, 8192), None), "pixels"),
        (export(Some(0), t, k, f32::NAN, (64, 64), None), "a view"),
        (export(Some(0), t, k, 0.0, (64, 64), None), "a view"),
        (export(Some(0), t, k, s, (64, 64), Some(k.len())), "no die"),
    ] {
        let e = result.unwrap_err();
        assert!(e.contains(says), "{e} (expected {says:?})");
    }
}

#[test]
fn view_colours_and_keys_off_their_range_are_refused() {
    let export = Export::View {
        wafer: None,
        table: vec![[1, 2, 3, 255]],
        keys: vec![0, 0],
        view: paint::View {
            scale: 1.0,
            offset: [0.0, 0.0],
        },
        width: 8,
        height: 8,
        selected: None,
    };
    let w = ToWorker::<Map>::Export {
        seq: 1,
        id: 1,
        export,
    }
    .encode();
    for (field, bad) in [
        ("table", vec![1.0, 2.0, 3.0]),
        ("table", vec![1.0, 2.0, 3.0, 256.0]),
        ("table", vec![1.5, 2.0, 3.0, 4.0]),
        ("keys", vec![-1.0]),
        ("keys", vec![65536.0]),
        ("keys", vec![0.5]),
    ] {
        let mut m = w.clone();
        m.put_floats(field, &bad);
        assert_eq!(
            ToWorker::decode(&m),
            Err(DecodeError::Missing {
                kind: "export",
                field
            }),
            "{field}: {bad:?}"
        );
    }
}
