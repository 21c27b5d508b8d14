//! `waferscope info` on every crafted file of `tests/hostile/`: a clear answer (exit 0, a
//! partial read with exit 3, or one line on stderr with exit 2), in bounded memory. The peak RSS
//! of each run is measured (wait4) and printed; the bound is [`PEAK_RSS_MAX`].
#![cfg(unix)]

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The hostile files are at most 660 KB of STDF (or a stream the reader never holds); the reader
/// keeps at most 16 bytes per input byte plus 8 MiB, and the binary itself needs a few MB.
const PEAK_RSS_MAX: u64 = 64 << 20;

/// Exit status and peak RSS (bytes) of `waferscope ARGS`, and its stdout/stderr.
fn run_measured(args: &[&str]) -> (i32, u64, String, String) {
    let child = Command::new(env!("CARGO_BIN_EXE_waferscope"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::scope(|s| {
        let mut child = child;
        let (mut o, mut e) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let so = s.spawn(move || std::io::read_to_string(&mut o).unwrap());
        let se = s.spawn(move || std::io::read_to_string(&mut e).unwrap());
        let (mut status, mut usage) = (0i32, unsafe { std::mem::zeroed::<libc::rusage>() });
        // SAFETY: waits for our own child; status and usage are valid out-pointers.
        let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        assert_eq!(pid, child.id() as i32);
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -libc::WTERMSIG(status)
        };
        // ru_maxrss is in KiB on Linux.
        let rss = usage.ru_maxrss as u64 * 1024;
        (code, rss, so.join().unwrap(), se.join().unwrap())
    })
}

#[test]
fn every_hostile_file_gets_a_clear_answer_in_bounded_memory() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_none_or(|x| x != "md"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let (code, rss, out, err) = run_measured(&["info", path.to_str().unwrap()]);
        println!("{name}: exit {code}, peak RSS {:.1} MB", rss as f64 / 1e6);
        match code {
            0 | 3 => assert!(
                out.contains("wafer") || out.contains("Wafer"),
                "{name}: {out}"
            ),
            2 => {
                assert_eq!(err.trim().lines().count(), 1, "{name}: {err}");
                assert!(err.contains("offset"), "{name}: {err}");
            }
            _ => panic!("{name}: exit {code}\n{out}\n{err}"),
        }
        if code == 3 {
            assert!(
                err.contains("stopped") || out.contains("stopped"),
                "{name}: {out}{err}"
            );
        }
        assert!(
            rss <= PEAK_RSS_MAX,
            "{name}: peak RSS {rss} > {PEAK_RSS_MAX}"
        );
    }
}
