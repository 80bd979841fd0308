//! The GitHub REST client of the service: App authentication (JWT, cached installation tokens),
//! the tarball of a commit, the Feedback pull request's comment and check runs.
//!
//! Invariant: every failure says whether retrying can help (`GhError::Retry`, with GitHub's own
//! delay when it gives one) or not; tokens and keys are never logged.

pub mod archive;
pub mod fake;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// GitHub's limit on a comment body, and on a check run's summary (65,535).
pub const BODY_LIMIT: usize = 65_535;

#[derive(Debug, thiserror::Error)]
pub enum GhError {
    /// Worth trying again: a 5xx, a rate limit, a network failure.
    #[error("{why}")]
    Retry { after: Option<Duration>, why: String },
    /// Retrying will not help (bad credentials, missing repository, ...).
    #[error("{0}")]
    Fatal(String),
}

pub struct GitHub {
    http: reqwest::Client,
    api: String,
    app_id: u64,
    key: EncodingKey,
    tokens: Mutex<HashMap<i64, (String, Instant)>>,
}

/// How long a cached installation token is used (GitHub's live 1 hour).
const TOKEN_REUSE: Duration = Duration::from_secs(50 * 60);

impl GitHub {
    pub fn new(api: &str, app_id: u64, private_key_pem: &[u8]) -> anyhow::Result<GitHub> {
        let key = EncodingKey::from_rsa_pem(private_key_pem)
            .map_err(|e| anyhow::anyhow!("the GitHub App private key is not an RSA PEM key: {e}"))?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("autograder/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(GitHub {
            http,
            api: api.trim_end_matches('/').to_string(),
            app_id,
            key,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    fn app_jwt(&self) -> Result<String, GhError> {
        let now = chrono::Utc::now().timestamp();
        let claims = json!({"iat": now - 60, "exp": now + 9 * 60, "iss": self.app_id.to_string()});
        jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &self.key)
            .map_err(|e| GhError::Fatal(format!("signing the App JWT: {e}")))
    }

    /// An installation token, cached until shortly before GitHub expires it.
    pub async fn token(&self, installation: i64) -> Result<String, GhError> {
        if let Some((token, at)) = self.tokens.lock().expect("token cache").get(&installation)
            && at.elapsed() < TOKEN_REUSE
        {
            return Ok(token.clone());
        }
        let jwt = self.app_jwt()?;
        let path = format!("/app/installations/{installation}/access_tokens");
        let body = self.call(Method::POST, &path, &jwt, None).await?;
        let token = body["token"]
            .as_str()
            .ok_or_else(|| GhError::Fatal("no token in GitHub's answer".into()))?;
        self.tokens
            .lock()
            .expect("token cache")
            .insert(installation, (token.to_string(), Instant::now()));
        Ok(token.to_string())
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: &str,
        body: Option<&Value>,
    ) -> Result<reqwest::Response, GhError> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(bearer)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| GhError::Retry {
            after: None,
            why: format!("GitHub unreachable: {e}"),
        })?;
        classify(resp).await
    }

    async fn call(&self, method: Method, path: &str, bearer: &str, body: Option<Value>) -> Result<Value, GhError> {
        let resp = self.send(method, path, bearer, body.as_ref()).await?;
        let text = resp.text().await.map_err(|e| GhError::Retry {
            after: None,
            why: format!("reading GitHub's answer: {e}"),
        })?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| GhError::Retry {
            after: None,
            why: format!("GitHub's answer is not JSON: {e}"),
        })
    }

    /// The gzipped tarball of exactly `sha` (redirects followed), at most `cap` bytes.
    pub async fn tarball(&self, token: &str, owner: &str, repo: &str, sha: &str, cap: u64) -> Result<Vec<u8>, GhError> {
        let mut resp = self
            .send(
                Method::GET,
                &format!("/repos/{owner}/{repo}/tarball/{sha}"),
                token,
                None,
            )
            .await?;
        let mut out = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| GhError::Retry {
            after: None,
            why: format!("downloading the tarball: {e}"),
        })? {
            out.extend_from_slice(&chunk);
            if out.len() as u64 > cap {
                return Err(GhError::Fatal(format!(
                    "the repository archive is larger than {} MiB",
                    cap >> 20
                )));
            }
        }
        Ok(out)
    }

    /// The open Feedback pull request that GitHub Classroom makes (base `feedback`), if any.
    pub async fn feedback_pr(&self, token: &str, owner: &str, repo: &str) -> Result<Option<u64>, GhError> {
        let prs = self
            .call(
                Method::GET,
                &format!("/repos/{owner}/{repo}/pulls?base=feedback&state=open&per_page=10"),
                token,
                None,
            )
            .await?;
        Ok(prs
            .as_array()
            .and_then(|a| a.first())
            .and_then(|pr| pr["number"].as_u64()))
    }

    /// Creates the comment holding `marker` on the pull request, or edits it in place.
    pub async fn upsert_comment(
        &self,
        token: &str,
        owner: &str,
        repo: &str,
        pr: u64,
        marker: &str,
        body: &str,
    ) -> Result<(), GhError> {
        for page in 1..=10 {
            let comments = self
                .call(
                    Method::GET,
                    &format!("/repos/{owner}/{repo}/issues/{pr}/comments?per_page=100&page={page}"),
                    token,
                    None,
                )
                .await?;
            let list = comments.as_array().cloned().unwrap_or_default();
            let ours = list.iter().find(|c| {
                c["body"].as_str().is_some_and(|b| b.contains(marker)) && c["user"]["type"].as_str() == Some("Bot")
            });
            if let Some(c) = ours {
                let id = c["id"]
                    .as_u64()
                    .ok_or_else(|| GhError::Fatal("a comment without an id".into()))?;
                self.call(
                    Method::PATCH,
                    &format!("/repos/{owner}/{repo}/issues/comments/{id}"),
                    token,
                    Some(json!({"body": body})),
                )
                .await?;
                return Ok(());
            }
            if list.len() < 100 {
                break;
            }
        }
        self.call(
            Method::POST,
            &format!("/repos/{owner}/{repo}/issues/{pr}/comments"),
            token,
            Some(json!({"body": body})),
        )
        .await?;
        Ok(())
    }

    /// Creates the check run for `sha`, or updates the one whose `external_id` is this job's.
    #[allow(clippy::too_many_arguments)]
    pub async fn upsert_check_run(
        &self,
        token: &str,
        owner: &str,
        repo: &str,
        sha: &str,
        name: &str,
        external_id: &str,
        conclusion: &str,
        title: &str,
        summary: &str,
    ) -> Result<(), GhError> {
        let encoded_name: String = name
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    (b as char).to_string()
                } else {
                    format!("%{b:02X}")
                }
            })
            .collect();
        let runs = self
            .call(
                Method::GET,
                &format!("/repos/{owner}/{repo}/commits/{sha}/check-runs?check_name={encoded_name}&per_page=100"),
                token,
                None,
            )
            .await?;
        let existing = runs["check_runs"]
            .as_array()
            .and_then(|a| a.iter().find(|r| r["external_id"].as_str() == Some(external_id)))
            .and_then(|r| r["id"].as_u64());
        let output = json!({"title": title, "summary": summary});
        match existing {
            Some(id) => {
                let body = json!({"status": "completed", "conclusion": conclusion, "output": output});
                self.call(
                    Method::PATCH,
                    &format!("/repos/{owner}/{repo}/check-runs/{id}"),
                    token,
                    Some(body),
                )
                .await?;
            }
            None => {
                let body = json!({"name": name, "head_sha": sha, "external_id": external_id, "status": "completed",
                                  "conclusion": conclusion, "output": output});
                self.call(
                    Method::POST,
                    &format!("/repos/{owner}/{repo}/check-runs"),
                    token,
                    Some(body),
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Maps GitHub's answer to success, a retry (5xx, rate limits, with their delays) or a failure.
async fn classify(resp: reqwest::Response) -> Result<reqwest::Response, GhError> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let retry_after = header("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let reset = header("x-ratelimit-reset")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .map(|at| Duration::from_secs((at - chrono::Utc::now().timestamp()).clamp(1, 3600) as u64));
    let exhausted = header("x-ratelimit-remaining").as_deref() == Some("0");
    let why = format!("GitHub answered {status}");
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(GhError::Retry {
            after: retry_after.or(reset),
            why,
        });
    }
    if status == StatusCode::FORBIDDEN && (retry_after.is_some() || exhausted) {
        return Err(GhError::Retry {
            after: retry_after.or(reset),
            why: format!("{why} (rate limited)"),
        });
    }
    Err(GhError::Fatal(why))
}

/// Cuts a body to GitHub's limit, with a note.
pub fn fit_body(body: &str) -> String {
    if body.chars().count() <= BODY_LIMIT {
        return body.to_string();
    }
    let note = "\n\n… (truncated: the full report is longer than GitHub allows in one comment)\n";
    let keep: String = body.chars().take(BODY_LIMIT - note.chars().count()).collect();
    format!("{keep}{note}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_to_githubs_limit_with_a_note() {
        let short = "## 3 / 3\n";
        assert_eq!(fit_body(short), short);
        let long = "é".repeat(BODY_LIMIT + 10);
        let cut = fit_body(&long);
        assert_eq!(cut.chars().count(), BODY_LIMIT);
        assert!(cut.ends_with("allows in one comment)\n"));
    }
}
