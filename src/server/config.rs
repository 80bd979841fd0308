//! Typed configuration of `autograder serve`: a YAML file plus environment overrides for
//! secrets. Secrets are loaded once, never printed (their `Debug` is redacted).

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Clone, Default)]
pub struct Secret(pub Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(redacted)")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default = "default_listen")]
    listen: SocketAddr,
    github: RawGitHub,
    organisations: Vec<String>,
    specs_dir: PathBuf,
    #[serde(default = "default_db")]
    database_url: String,
    #[serde(default = "default_data")]
    data_dir: PathBuf,
    #[serde(default = "default_workers")]
    workers: usize,
    #[serde(default = "default_attempts")]
    max_attempts: i64,
    #[serde(default = "default_retry")]
    retry_base: String,
    #[serde(default = "default_lease")]
    lease: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGitHub {
    #[serde(default = "default_api")]
    api_url: String,
    app_id: u64,
    private_key_file: Option<PathBuf>,
    #[serde(default)]
    webhook_secrets: Vec<String>,
}

fn default_listen() -> SocketAddr {
    "127.0.0.1:8080".parse().expect("a valid address")
}
fn default_db() -> String {
    "sqlite://autograder.db".into()
}
fn default_data() -> PathBuf {
    "autograder-data".into()
}
fn default_workers() -> usize {
    2
}
fn default_attempts() -> i64 {
    5
}
fn default_retry() -> String {
    "5s".into()
}
fn default_lease() -> String {
    "60s".into()
}
fn default_api() -> String {
    "https://api.github.com".into()
}

#[derive(Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub api_url: String,
    pub app_id: u64,
    pub private_key: Secret,
    pub webhook_secrets: Vec<Secret>,
    pub organisations: Vec<String>,
    pub specs_dir: PathBuf,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub workers: usize,
    pub max_attempts: i64,
    pub retry_base: Duration,
    pub lease: Duration,
}

/// A relative SQLite path is relative to the configuration file.
fn resolve_database_url(url: &str, base: &Path) -> String {
    match url.strip_prefix("sqlite://") {
        Some(file) if !file.starts_with('/') && !file.starts_with(':') => {
            format!("sqlite://{}", base.join(file).display())
        }
        _ => url.to_string(),
    }
}

/// Only the database of a configuration file (for tools such as `regrade`, which need no
/// secrets).
pub fn database_url(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    let value: serde_yaml::Value =
        serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let url = value
        .get("database_url")
        .and_then(|v| v.as_str())
        .map(str::to_string)
        .unwrap_or_else(default_db);
    Ok(resolve_database_url(&url, path.parent().unwrap_or(Path::new("."))))
}

impl Config {
    /// Reads the file; `AUTOGRADER_WEBHOOK_SECRETS` (comma-separated) replaces the file's
    /// secrets and `AUTOGRADER_APP_PRIVATE_KEY` (PEM text) the key file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let raw: Raw = serde_yaml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let rel = |p: &Path| if p.is_absolute() { p.to_path_buf() } else { base.join(p) };
        let mut secrets: Vec<Secret> = raw
            .github
            .webhook_secrets
            .iter()
            .map(|s| Secret(s.as_bytes().to_vec()))
            .collect();
        if let Ok(env) = std::env::var("AUTOGRADER_WEBHOOK_SECRETS") {
            secrets = env
                .split(',')
                .filter(|s| !s.is_empty())
                .map(|s| Secret(s.as_bytes().to_vec()))
                .collect();
        }
        if secrets.is_empty() {
            anyhow::bail!("no webhook secret: set AUTOGRADER_WEBHOOK_SECRETS or github.webhook_secrets");
        }
        let private_key = match std::env::var("AUTOGRADER_APP_PRIVATE_KEY") {
            Ok(pem) => Secret(pem.into_bytes()),
            Err(_) => {
                let file = raw.github.private_key_file.as_ref().ok_or_else(|| {
                    anyhow::anyhow!("no App private key: set github.private_key_file or AUTOGRADER_APP_PRIVATE_KEY")
                })?;
                let file = rel(file);
                Secret(std::fs::read(&file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?)
            }
        };
        let duration = |name: &str, text: &str| {
            humantime::parse_duration(text).map_err(|_| anyhow::anyhow!("{name}: `{text}` is not a duration like 5s"))
        };
        let database_url = resolve_database_url(&raw.database_url, base);
        Ok(Config {
            listen: raw.listen,
            api_url: raw.github.api_url,
            app_id: raw.github.app_id,
            private_key,
            webhook_secrets: secrets,
            organisations: raw.organisations,
            specs_dir: rel(&raw.specs_dir),
            database_url,
            data_dir: rel(&raw.data_dir),
            workers: raw.workers.max(1),
            max_attempts: raw.max_attempts.max(1),
            retry_base: duration("retry_base", &raw.retry_base)?,
            lease: duration("lease", &raw.lease)?,
        })
    }
}
