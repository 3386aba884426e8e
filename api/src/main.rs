use std::process::ExitCode;
use std::sync::Arc;

use api::config::{Cli, Command};
use api::startup::{Application, prepare_database};
use api::{openapi, telemetry};
use clap::Parser;
use domain::SystemClock;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.settings);
    let outcome = match cli.command {
        Command::Serve => serve(cli.settings),
        Command::Migrate => {
            prepare_database(&cli.settings).map(|_| tracing::info!("migrations applied")).map_err(|e| e.to_string())
        }
        Command::Openapi => {
            openapi::document().to_pretty_json().map(|json| println!("{json}")).map_err(|e| e.to_string())
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            tracing::error!(%reason, "roster stopped");
            eprintln!("roster: {reason}");
            ExitCode::FAILURE
        }
    }
}

fn serve(settings: api::Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
