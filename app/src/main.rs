//! The page's bin: mounts the viewer (`app::ui::App`). Trunk builds it from `app/index.html`.

#[cfg(target_arch = "wasm32")]
fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::ui::App);
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("the Waferscope app runs in the browser: cargo xtask run");
}
