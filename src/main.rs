//! The `tessera` command line: it parses arguments and calls the library.

use clap::{Args, Parser, Subcommand};
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use tessera::config::Config;

/// Tessera: a IIIF Image API 2.1 server for museum images.
#[derive(Parser)]
#[command(
    name = "tessera",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// With no subcommand, `tessera` runs `serve` with these flags.
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the IIIF Image API over HTTP (the default).
    Serve(ServeArgs),
}

#[derive(Args, Default)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    bind: Option<SocketAddr>,
    /// Folder of source images [default: ./sample-images].
    #[arg(long, value_name = "DIR")]
    images: Option<PathBuf>,
    /// URL path prefix of the Image API [default: iiif].
    #[arg(long)]
    prefix: Option<String>,
    /// Scheme, host and path for `@id` and Link headers, e.g. https://images.example.org/iiif.
    /// Without it they come from Forwarded / X-Forwarded-Proto / X-Forwarded-Host, then Host.
    #[arg(long, value_name = "URL")]
    public_base: Option<String>,
    /// Folder of object records (JSON) served as IIIF manifests [default: ./manifests].
    #[arg(long, value_name = "DIR")]
    records: Option<PathBuf>,
    /// A TOML file with the same keys (and more, see the README). Flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl ServeArgs {
    fn into_config(self) -> Result<Config, Box<dyn std::error::Error>> {
        let mut c = match &self.config {
            Some(path) => Config::from_file(path)?,
            None => Config::default(),
        };
        if let Some(v) = self.bind {
            c.bind = v;
        }
        if let Some(v) = self.images {
            c.images = v;
        }
        if let Some(v) = self.prefix {
            c.prefix = v;
        }
        if let Some(v) = self.records {
            c.records = v;
        }
        if let Some(v) = self.public_base {
            c.public_base = Some(v);
        }
        Ok(c.validate()?)
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "tessera=info,tower_http=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let cli = Cli::parse();
    let args = match cli.command {
        Some(Command::Serve(a)) => a,
        None => cli.serve,
    };
    let result = args.into_config().and_then(|config| {
        let runtime = tokio::runtime::Runtime::new()?;
        runtime.block_on(tessera::http::serve(config))
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tessera: {e}");
            ExitCode::FAILURE
        }
    }
}
