//! Repository checks that a sentence in ARCHITECTURE.md cannot enforce on its own:
//! `cargo xtask deps` (dependency boundaries, via `cargo tree`) and `cargo xtask tidy` (module docs, file
//! names, file sizes, the crate list in ARCHITECTURE.md).

mod deps;
mod tidy;

use std::path::PathBuf;

fn main() -> anyhow::Result<()> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the repository").to_path_buf();
    let command = std::env::args().nth(1).unwrap_or_default();
    match command.as_str() {
        "deps" => deps::check(&root),
        "tidy" => tidy::check(&root),
        "ci" => {
            tidy::check(&root)?;
            deps::check(&root)
        }
        _ => {
            eprintln!("usage: cargo xtask <deps|tidy|ci>");
            std::process::exit(2);
        }
    }
}
