//! Compares what a submission produced with what the spec expects. Pure.
//!
//! Messages never contain the expected value: they say what was wrong with the student's own
//! value, so they are safe to show wherever the student's output may be shown.

use crate::datum::Datum;
use crate::spec::{Compare, NumericExpect};

/// `Ok(())` when `got` matches `expected`; otherwise why not (without the expected value).
pub fn compare(expected: &Datum, got: &Datum, how: &Compare) -> Result<(), String> {
    match how {
        Compare::Exact => structural(expected, got, &|e, g| {
            if e == g || (e.is_nan() && g.is_nan()) {
                Ok(())
            } else {
                Err(())
            }
        }),
        Compare::Numeric { abs_tol, rel_tol } => structural(expected, got, &|e, g| {
            if close(e, g, *abs_tol, *rel_tol) {
                Ok(())
            } else {
                Err(())
            }
        }),
        Compare::Contains => match (expected, got) {
            (Datum::Str(e), Datum::Str(g)) if g.contains(e.as_str()) => Ok(()),
            (Datum::Str(_), Datum::Str(_)) => Err("the text does not contain what was expected".into()),
            _ => Err(format!("expected a string, got {}", type_name(got))),
        },
        Compare::Regex => match (expected, got) {
            (Datum::Str(e), Datum::Str(g)) => match regex::Regex::new(e) {
                Ok(re) if re.is_match(g) => Ok(()),
                Ok(_) => Err("the text does not have the expected form".into()),
                Err(_) => Err("the spec's regex is invalid".into()),
            },
            _ => Err(format!("expected a string, got {}", type_name(got))),
        },
    }
}

/// Sign-safe closeness: |got - expected| <= abs_tol + rel_tol * |expected|. NaN matches only
/// an expected NaN, and an infinity only the same infinity.
pub fn close(expected: f64, got: f64, abs_tol: f64, rel_tol: f64) -> bool {
    if expected.is_nan() || got.is_nan() {
        return expected.is_nan() && got.is_nan();
    }
    if expected.is_infinite() || got.is_infinite() {
        return expected == got;
    }
    (got - expected).abs() <= abs_tol + rel_tol * expected.abs()
}

fn type_name(d: &Datum) -> &'static str {
    match d {
        Datum::Null => "None",
        Datum::Bool(_) => "a bool",
        Datum::Int(_) => "an int",
        Datum::Float(_) => "a float",
        Datum::Str(_) => "a string",
        Datum::List(_) => "a list",
        Datum::Map(_) => "a dict",
    }
}

fn structural(expected: &Datum, got: &Datum, num: &dyn Fn(f64, f64) -> Result<(), ()>) -> Result<(), String> {
    match (expected, got) {
        (Datum::Int(_) | Datum::Float(_), Datum::Int(_) | Datum::Float(_)) => {
            let (e, g) = (expected.as_f64().unwrap_or(f64::NAN), got.as_f64().unwrap_or(f64::NAN));
            if let (Datum::Int(a), Datum::Int(b)) = (expected, got)
                && a == b
            {
                return Ok(());
            }
            num(e, g).map_err(|_| {
                if g.is_nan() {
                    "the value is NaN".to_string()
                } else if g.is_infinite() {
                    "the value is infinite".to_string()
                } else {
                    format!("{} is not the expected value (outside the tolerance)", got.short(40))
                }
            })
        }
        (Datum::List(e), Datum::List(g)) => {
            if e.len() != g.len() {
                return Err(format!("expected a list of {} items, got {}", e.len(), g.len()));
            }
            for (i, (a, b)) in e.iter().zip(g).enumerate() {
                structural(a, b, num).map_err(|why| format!("item {i}: {why}"))?;
            }
            Ok(())
        }
        (Datum::Map(e), Datum::Map(g)) => {
            if e.len() != g.len() || e.keys().any(|k| !g.contains_key(k)) {
                return Err("the dict does not have the expected keys".into());
            }
            for (k, a) in e {
                structural(a, &g[k], num).map_err(|why| format!("key {k:?}: {why}"))?;
            }
            Ok(())
        }
        (Datum::Str(e), Datum::Str(g)) => {
            if e == g {
                Ok(())
            } else {
                Err(format!("{} is not the expected text", got.short(40)))
            }
        }
        (Datum::Bool(e), Datum::Bool(g)) if e == g => Ok(()),
        (Datum::Null, Datum::Null) => Ok(()),
        (Datum::Bool(_), Datum::Bool(_)) => Err(format!("{got} is not the expected value")),
        _ => Err(format!("expected {}, got {}", type_name(expected), type_name(got))),
    }
}

/// Compares program output text with an expected text, ignoring trailing whitespace.
pub fn same_text(expected: &str, got: &str) -> bool {
    normalise(expected) == normalise(got)
}

fn normalise(text: &str) -> String {
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end()).collect();
    lines.join("\n").trim_end().to_string()
}

/// Reads the number an output test is about and checks it.
pub fn numeric_output(expect: &NumericExpect, text: &str) -> Result<(), String> {
    let candidate = match &expect.extract {
        Some(pattern) => {
            let re = regex::Regex::new(pattern).map_err(|_| "the spec's regex is invalid".to_string())?;
            let caps = re
                .captures(text)
                .ok_or("the output does not contain the expected line")?;
            caps.get(1)
                .or_else(|| caps.get(0))
                .map(|m| m.as_str().to_string())
                .unwrap_or_default()
        }
        None => text.trim().to_string(),
    };
    let got: f64 = candidate
        .trim()
        .parse()
        .map_err(|_| format!("`{}` is not a number", candidate.chars().take(40).collect::<String>()))?;
    if close(expect.value, got, expect.abs_tol, expect.rel_tol) {
        Ok(())
    } else if got.is_nan() {
        Err("the number is NaN".into())
    } else {
        Err(format!("{got} is not the expected value (outside the tolerance)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerance_is_sign_safe_and_rejects_nan_and_inf() {
        assert!(!close(-5.5, 5.5, 0.1, 0.1));
        assert!(close(-5.5, -5.45, 0.1, 0.0));
        assert!(!close(1.0, f64::NAN, 1e9, 1e9));
        assert!(!close(1.0, f64::INFINITY, 1e9, 1e9));
        assert!(close(f64::NAN, f64::NAN, 0.0, 0.0));
        assert!(close(f64::NEG_INFINITY, f64::NEG_INFINITY, 0.0, 0.0));
        assert!(!close(f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0));
        assert!(close(0.0, -0.0, 0.0, 0.0));
    }

    #[test]
    fn structure_and_types_must_match() {
        let how = Compare::Numeric {
            abs_tol: 1e-6,
            rel_tol: 0.0,
        };
        let e = Datum::List(vec![Datum::Float(91.1876), Datum::Float(2.4952)]);
        assert!(
            compare(
                &e,
                &Datum::List(vec![Datum::Float(91.1876), Datum::Float(2.4952)]),
                &how
            )
            .is_ok()
        );
        assert!(compare(&e, &Datum::List(vec![Datum::Float(91.1876)]), &how).is_err());
        assert!(compare(&e, &Datum::Str("91.1876".into()), &how).is_err());
        assert!(compare(&Datum::Float(1.0), &Datum::Bool(true), &how).is_err());
        let why = compare(&Datum::Float(91.1876), &Datum::Float(80.0), &how).unwrap_err();
        assert!(
            !why.contains("91.1876"),
            "messages must not reveal the expected value: {why}"
        );
    }

    #[test]
    fn numeric_output_extracts_and_compares() {
        let ex = NumericExpect {
            value: 91.19,
            abs_tol: 0.5,
            rel_tol: 0.0,
            extract: Some(r"m_Z = ([-+0-9.eE]+)".into()),
        };
        assert!(numeric_output(&ex, "m_Z = 91.3 GeV\n").is_ok());
        assert!(numeric_output(&ex, "m_Z = -91.3 GeV\n").is_err());
        assert!(numeric_output(&ex, "m_Z = nan GeV\n").is_err());
        assert!(numeric_output(&ex, "nothing here").is_err());
    }
}
