//! Decides what a webhook event means for grading. Pure: payload in, decision out.

use crate::queue::NewJob;
use serde_json::Value;

/// An assignment the service grades: its id, Classroom prefix and current spec version.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: String,
    pub prefix: String,
    pub version: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Grade(NewJob),
    Ignore(&'static str),
}

const ZERO_SHA: &str = "0000000000000000000000000000000000000000";
const CLASSROOM_BOT: &str = "github-classroom[bot]";

/// The assignment whose prefix matches `repo` (`<prefix>-<login>`), longest prefix first.
pub fn match_assignment<'a>(targets: &'a [Target], repo: &str) -> Option<&'a Target> {
    targets
        .iter()
        .filter(|t| {
            repo.len() > t.prefix.len() + 1 && repo.starts_with(&t.prefix) && repo[t.prefix.len()..].starts_with('-')
        })
        .max_by_key(|t| t.prefix.len())
}

/// What to do with a `push` event.
pub fn push(payload: &Value, organisations: &[String], targets: &[Target]) -> Decision {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let repo = &payload["repository"];
    let owner = s(&repo["owner"]["login"]);
    let name = s(&repo["name"]);
    let after = s(&payload["after"]);
    let reference = s(&payload["ref"]);
    if payload["deleted"].as_bool() == Some(true) || after == ZERO_SHA || after.is_empty() {
        return Decision::Ignore("ref deletion");
    }
    if reference.starts_with("refs/tags/") {
        return Decision::Ignore("tag");
    }
    if reference != format!("refs/heads/{}", s(&repo["default_branch"])) {
        return Decision::Ignore("not the default branch");
    }
    if s(&payload["sender"]["login"]) == CLASSROOM_BOT {
        return Decision::Ignore("GitHub Classroom's set-up push");
    }
    if !organisations.iter().any(|o| o.eq_ignore_ascii_case(&owner)) {
        return Decision::Ignore("organisation not served");
    }
    let Some(target) = match_assignment(targets, &name) else {
        return Decision::Ignore("no assignment matches the repository");
    };
    let Some(installation_id) = payload["installation"]["id"].as_i64() else {
        return Decision::Ignore("no installation");
    };
    Decision::Grade(NewJob {
        installation_id,
        owner,
        repo: name,
        sha: after,
        assignment: target.id.clone(),
        spec_version: target.version.clone(),
        pushed_at: repo["pushed_at"].as_i64(),
    })
}

/// What a `check_run` or `check_suite` event asks: (owner, repo, head SHA) to grade again when
/// someone pressed "Re-run" on our check.
pub fn rerun_request(event: &str, payload: &Value) -> Option<(String, String, String)> {
    if payload["action"].as_str() != Some("rerequested") {
        return None;
    }
    let key = match event {
        "check_run" => "check_run",
        "check_suite" => "check_suite",
        _ => return None,
    };
    let sha = payload[key]["head_sha"].as_str()?.to_string();
    let repo = &payload["repository"];
    Some((
        repo["owner"]["login"].as_str()?.to_string(),
        repo["name"].as_str()?.to_string(),
        sha,
    ))
}

/// What an `installation` event says: (installation id, account, state).
pub fn installation(payload: &Value) -> Option<(i64, String, &'static str)> {
    let inst = &payload["installation"];
    let id = inst["id"].as_i64()?;
    let account = inst["account"]["login"].as_str().unwrap_or_default().to_string();
    let state = match payload["action"].as_str()? {
        "deleted" => "deleted",
        "suspend" => "suspended",
        "created" | "unsuspend" | "new_permissions_accepted" => "active",
        _ => return None,
    };
    Some((id, account, state))
}

/// Prefixes that overlap ambiguously: one is another followed by `-`, so a repository could
/// belong to either (`hw` and `hw-2` both match `hw-2-alice`). The longest wins at run time,
/// but `validate` refuses the pair: `hw-2-alice` might be student `2-alice` of `hw`.
pub fn ambiguous_prefixes(targets: &[Target]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for a in targets {
        for b in targets {
            if a.id != b.id && b.prefix.starts_with(&format!("{}-", a.prefix)) {
                out.push((a.id.clone(), b.id.clone()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Vec<Target> {
        ["hw", "hw-2", "z-boson"]
            .iter()
            .map(|p| Target {
                id: p.to_string(),
                prefix: p.to_string(),
                version: "v".into(),
            })
            .collect()
    }

    #[test]
    fn longest_prefix_wins_and_logins_may_hold_hyphens() {
        let t = targets();
        assert_eq!(match_assignment(&t, "hw-2-alice").unwrap().id, "hw-2");
        assert_eq!(match_assignment(&t, "hw-bob-smith").unwrap().id, "hw");
        assert_eq!(match_assignment(&t, "z-boson-ann-lee").unwrap().id, "z-boson");
        assert!(match_assignment(&t, "hw").is_none());
        assert!(match_assignment(&t, "hw-").is_none());
        assert!(match_assignment(&t, "hwx-alice").is_none());
        assert_eq!(ambiguous_prefixes(&t), vec![("hw".to_string(), "hw-2".to_string())]);
    }
}
