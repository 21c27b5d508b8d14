//! The page's bin: mounts the viewer (`app::ui::App`). Trunk builds it from `app/index.html`. The
//! same wasm is the parsing worker (`app::parsing`): started in a worker, it listens instead.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    if app::parsing::in_worker() {
        app::parsing::start();
    } else {
        leptos::mount::mount_to_body(app::ui::App);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the Waferscope app runs in the browser: cargo xtask run");
}
