use std::process::ExitCode;
use std::sync::Arc;

use api::config::{AccountsCommand, AuditCommand, Cli, Command, EmailsCommand};
use api::startup::{Application, open_database};
use api::{openapi, telemetry};
use clap::Parser;
use domain::SystemClock;

fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(&cli.settings);
    let outcome = match cli.command {
        Command::Serve => serve(cli.settings),
        Command::Migrate => {
            open_database(&cli.settings).map(|_| tracing::info!("migrations applied")).map_err(|e| e.to_string())
        }
        Command::RunJobs { kinds } => run_jobs(&cli.settings, &kinds),
        Command::Audit { command: AuditCommand::Verify } => verify_audit_log(&cli.settings),
        Command::Accounts { command: AccountsCommand::SetPlan { account, plan } } => {
            api::startup::set_account_plan(&cli.settings, Arc::new(SystemClock), account, &plan)
                .map(|()| println!("account {account} is on plan {plan}"))
        }
        Command::Emails { command } => emails(&cli.settings, command),
        Command::OperatorToken => {
            let (token, digest) = api::auth::operator::generate();
            println!("token:  {}\ndigest: {}", token.expose(), digest.to_hex());
            println!("Set ROSTER_OPERATOR_TOKEN_SHA256={} and keep the token secret.", digest.to_hex());
            Ok(())
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

/// Lists the email templates, or prints one rendered with sample data.
fn emails(settings: &api::Settings, command: EmailsCommand) -> Result<(), String> {
    let renderer = api::startup::load_emails(settings).map_err(|e| e.to_string())?;
    match command {
        EmailsCommand::List => {
            api::email::render::EmailRenderer::names().iter().for_each(|name| println!("{name}"));
            Ok(())
        }
        EmailsCommand::Preview { name, locale, html } => {
            let locale = locale.as_deref().map(domain::Locale::parse).transpose().map_err(|e| e.message)?;
            let rendered = renderer
                .preview(&name, locale.as_ref())
                .ok_or_else(|| format!("no email template {name:?}; `roster emails list` names them"))?
                .map_err(|e| e.to_string())?;
            println!(
                "Subject: {}
Language: {}
",
                rendered.subject, rendered.language
            );
            println!("{}", if html { &rendered.html } else { &rendered.text });
            Ok(())
        }
    }
}

/// Prints one line per chain; fails when a chain is broken.
fn verify_audit_log(settings: &api::Settings) -> Result<(), String> {
    let mut conn = open_database(settings).map_err(|e| e.to_string())?;
    let deployment = api::startup::load_deployment(settings).map_err(|e| e.to_string())?;
    let mut broken = 0;
    for chain in persistence::audit::chains(&mut conn).map_err(|e| e.to_string())? {
        match persistence::audit::verify(&mut conn, &chain, &deployment.secrets).map_err(|e| e.to_string())? {
            Ok(verified) if verified.erased > 0 => println!(
                "ok      {chain}: {} events ({} with a person erased from them)",
                verified.events, verified.erased
            ),
            Ok(verified) => println!("ok      {chain}: {} events", verified.events),
            Err(link) => {
                broken += 1;
                println!("BROKEN  {chain}: {link}");
            }
        }
    }
    if broken == 0 { Ok(()) } else { Err(format!("{broken} audit chain(s) broken")) }
}

fn run_jobs(settings: &api::Settings, kinds: &[String]) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async {
        let only = (!kinds.is_empty()).then_some(kinds);
        let ran = api::startup::run_jobs_until_idle(settings, Arc::new(SystemClock), only)
            .await
            .map_err(|e| e.to_string())?;
        tracing::info!(ran, "background jobs done");
        Ok(())
    })
}

fn serve(settings: api::Settings) -> Result<(), String> {
    actix_web::rt::System::new().block_on(async move {
        let app = Application::build(settings, Arc::new(SystemClock)).map_err(|e| e.to_string())?;
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}
