//! `cargo run -p openapi -- write` regenerates `openapi/openapi.json` from
//! the code; `check` fails when the committed file differs from it.

use std::path::PathBuf;
use std::process::ExitCode;

fn committed_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("openapi.json")
}

fn generated() -> Result<String, String> {
    api::openapi::document().to_pretty_json().map(|json| json + "\n").map_err(|e| e.to_string())
}

/// The committed document is stale when it differs from the generated one
/// as JSON (formatting aside).
fn is_stale(committed: &str, generated: &str) -> bool {
    let parse = |text: &str| serde_json::from_str::<serde_json::Value>(text).ok();
    parse(committed).is_none() || parse(committed) != parse(generated)
}

fn main() -> ExitCode {
    let command = std::env::args().nth(1).unwrap_or_default();
    let path = committed_path();
    let outcome = generated().and_then(|json| match command.as_str() {
        "write" => std::fs::write(&path, json).map(|()| format!("wrote {}", path.display())).map_err(|e| e.to_string()),
        "check" => {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if is_stale(&committed, &json) {
                Err(format!("{} is out of date with the code: run `make openapi` and commit it", path.display()))
            } else {
                Ok(format!("{} is up to date", path.display()))
            }
        }
        _ => Err("usage: openapi write|check".into()),
    });
    match outcome {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("openapi: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_operation_is_detected() {
        let current = generated().unwrap();
        assert!(!is_stale(&current, &current));
        let edited = current.replacen("Sign in with email and password.", "Sign in.", 1);
        assert_ne!(edited, current, "the login summary is in the document");
        assert!(is_stale(&edited, &current));
        assert!(is_stale("", &current));
    }

    #[test]
    fn the_committed_file_is_current() {
        let committed = std::fs::read_to_string(committed_path()).unwrap_or_default();
        assert!(!is_stale(&committed, &generated().unwrap()), "run `make openapi`");
    }
}
