//! The widget's entry point: mount [`idv_widget::App`] on the page.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(idv_widget::App);
}
