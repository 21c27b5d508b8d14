//! The edge Worker's build, done here rather than by worker-build: the same steps as
//! worker-build 0.8.7 with the `wasm` profile (cargo, wasm-bindgen's module target with the
//! reset-state function and abort handler, wasm-opt, its entry shim bundled by esbuild), without
//! installing worker-build itself (9.5 min of a cold CI run, 2026-11-29) and with the edge built
//! as a `cdylib` only, so its dependencies compile to LLVM bitcode for fat LTO and skip codegen
//! (worker-build builds the crate types Cargo.toml names; the edge's is a plain library there,
//! for the native unit tests and the fuzz target).
//!
//! Left out of worker-build's steps: the `producers` section naming worker-build, the
//! `package.json` and the `worker/shim.mjs` alias (wrangler.toml's `main` is `build/index.js`).

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::build::Lint;
use crate::tools::tools_root;
use crate::{Result, cargo, root, sh, target_dir};

const SHIM: &str = include_str!("edge_shim.js");

/// wasm-bindgen's exports the shim must not re-wrap as handlers (worker-build's list).
const SYSTEM_FNS: [&str; 2] = ["__wbg_reset_state", "__worker_init_state"];

/// Build the Worker into edge/build with the size-and-speed `wasm` profile.
pub fn build_edge(lint: Lint) -> Result {
    let mut c = cargo();
    c.args([
        "rustc",
        "-p",
        "edge",
        "--lib",
        "--crate-type",
        "cdylib",
        "--profile",
        "wasm",
        "--target",
        "wasm32-unknown-unknown",
    ])
    // wasm-bindgen's macro then awaits through js-sys, as worker-build builds it (an env var, not
    // a cfg: cargo does not pass RUSTFLAGS to proc-macros when cross-compiling).
    .env("WASM_BINDGEN_USE_JS_SYS", "1");
    lint.apply(&mut c);
    sh(c)?;

    let out = root().join("edge/build");
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    }
    fs::create_dir_all(&out).map_err(|e| format!("{}: {e}", out.display()))?;
    write(&out.join(".gitignore"), "*")?;

    // The CLI must be the version the wasm was built with (tools.rs installs Cargo.lock's).
    let wasm = target_dir().join("wasm32-unknown-unknown/wasm/edge.wasm");
    let mut c = Command::new(tools_root().join("bin/wasm-bindgen"));
    c.arg(&wasm).arg("--out-dir").arg(&out).args([
        "--no-typescript",
        "--target",
        "module",
        "--out-name",
        "index",
        "--experimental-reset-state-function",
        "--force-enable-abort-handler",
    ]);
    sh(c)?;

    // -O1, not -O: on 2026-11-29 (this machine, the 3.65 MB wasm) -O took 205 s of every build
    // and gave 939 KB gzipped, -O1 30 s and 915 KB (what Cloudflare counts and sends); rustc has
    // already optimised at opt-level 3 with fat LTO. The features are worker-build's explicit
    // list, so that no encoding workerd does not know yet is emitted; the name section stays.
    let bg = out.join("index_bg.wasm");
    let tmp = out.join("index_bg.opt.wasm");
    let npm = root().join("tests/node_modules");
    let mut c = Command::new(npm.join("binaryen/bin/wasm-opt"));
    c.arg(&bg).arg("-o").arg(&tmp).arg("-O1");
    for feature in [
        "mutable-globals",
        "sign-ext",
        "nontrapping-float-to-int",
        "bulk-memory",
        "multivalue",
        "reference-types",
        "exception-handling",
    ] {
        c.arg(format!("--enable-{feature}"));
    }
    c.arg("--debuginfo");
    sh(c)?;
    fs::rename(&tmp, &bg).map_err(|e| format!("{}: {e}", bg.display()))?;

    let index = out.join("index.js");
    let glue = read(&index)?;
    write(&out.join("shim.js"), &shim(&glue))?;
    let mut c = Command::new(npm.join("@esbuild/linux-x64/bin/esbuild"));
    c.current_dir(&out).args([
        "--external:./index_bg.wasm",
        "--external:cloudflare:*",
        "--format=esm",
        "--bundle",
        "./shim.js",
        "--outfile=index.js",
        "--allow-overwrite",
        "--minify",
    ]);
    sh(c)?;
    // wasm-bindgen imports the wasm as a source phase import (`import source`); worker-build
    // rewrites it to the plain import that wrangler's bundler takes, and so does this.
    let bundled = read(&index)?.replace("import source ", "import ");
    write(&index, &bundled)?;
    fs::remove_file(out.join("shim.js")).map_err(|e| format!("shim.js: {e}"))?;
    let snippets = out.join("snippets");
    if snippets.exists() {
        fs::remove_dir_all(&snippets).map_err(|e| format!("{}: {e}", snippets.display()))?;
    }

    let size = fs::metadata(&bg).map_err(|e| format!("{}: {e}", bg.display()))?;
    println!(
        "edge worker: {} ({:.2} MB)",
        bg.display(),
        size.len() as f64 / 1e6
    );
    Ok(())
}

/// The entry module: worker-build's shim with a handler per exported function and a proxy per
/// exported class, read off wasm-bindgen's module output.
fn shim(glue: &str) -> String {
    let mut handlers = String::new();
    let mut classes = String::new();
    for decl in export_decls(glue) {
        if let Some(name) = exported_fn(decl) {
            if SYSTEM_FNS.contains(&name) {
                continue;
            }
            // The event handlers take the request (or batch...) plus the env and context the
            // entrypoint holds; anything else is passed through as is.
            if ["fetch", "queue", "scheduled", "email", "connect"].contains(&name) {
                handlers.push_str(&format!(
                    "Entrypoint.prototype.{name} = function {name} (arg) {{\n  \
                     return exports.{name}.call(this, arg, this.env, this.ctx);\n}}\n"
                ));
            } else {
                handlers.push_str(&format!("Entrypoint.prototype.{name} = exports.{name};\n"));
            }
        } else if let Some(rest) = decl.strip_prefix("export class ")
            && let Some(brace) = rest.find('{')
        {
            let name = rest[..brace].trim();
            classes.push_str(&format!(
                "export const {name} = new Proxy(exports.{name}, classProxyHooks);\n"
            ));
        }
    }
    SHIM.replace("$HANDLERS", &handlers) + &classes
}

/// The name of an exported function: `export function f(`, `export async function f(` or
/// `export { g as f }`.
fn exported_fn(decl: &str) -> Option<&str> {
    if let Some(rest) = decl
        .strip_prefix("export function")
        .or_else(|| decl.strip_prefix("export async function"))
    {
        return rest.find('(').map(|p| rest[..p].trim());
    }
    let rest = decl.strip_prefix("export {")?;
    let rest = &rest[rest.find(" as ")? + 4..];
    rest.find('}').map(|p| rest[..p].trim())
}

/// Each `export` declaration in the module text, from the keyword on.
fn export_decls(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("export ").filter_map(move |(i, _)| {
        let boundary = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || c == ';' || c == '}');
        boundary.then(|| &text[i..])
    })
}

fn read(p: &Path) -> Result<String> {
    fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))
}

fn write(p: &Path, text: &str) -> Result {
    fs::write(p, text).map_err(|e| format!("{}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handlers_and_classes_from_module_glue() {
        let glue = "export function fetch(req, env, ctx) {}\n\
                    export function __wbg_reset_state() {}\n\
                    export function version() {}\n\
                    export class R2Range {\n}\n\
                    const x = 'not export thing';\n";
        let s = shim(glue);
        assert!(s.contains("Entrypoint.prototype.fetch = function fetch (arg)"));
        assert!(s.contains("exports.fetch.call(this, arg, this.env, this.ctx)"));
        assert!(s.contains("Entrypoint.prototype.version = exports.version;"));
        assert!(!s.contains("prototype.__wbg_reset_state"));
        assert!(s.contains("export const R2Range = new Proxy(exports.R2Range, classProxyHooks);"));
        assert!(!s.contains("$HANDLERS"));
        assert!(!s.contains("thing"));
    }
}
