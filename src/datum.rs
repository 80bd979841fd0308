//! Plain data exchanged with the sandbox and held in specs: the only values a verdict is made from.
//!
//! JSON cannot hold NaN, infinities or integers beyond 2^53, so the wire form tags them
//! (`{"$float": "nan"}`, `{"$int": "123..."}`, `{"$dict": {...}}` for maps whose keys start
//! with `$`), matching `sandbox/python/harness/grader_harness.py`.

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum Datum {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    List(Vec<Datum>),
    Map(BTreeMap<String, Datum>),
}

impl Datum {
    /// Reads the tagged wire form. `None` when a tag is malformed.
    pub fn from_wire(value: &Value) -> Option<Datum> {
        Some(match value {
            Value::Null => Datum::Null,
            Value::Bool(b) => Datum::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => Datum::Int(i as i128),
                None => Datum::Float(n.as_f64()?),
            },
            Value::String(s) => Datum::Str(s.clone()),
            Value::Array(items) => Datum::List(items.iter().map(Datum::from_wire).collect::<Option<_>>()?),
            Value::Object(map) => {
                if map.len() == 1 {
                    if let Some(Value::String(f)) = map.get("$float") {
                        return match f.as_str() {
                            "nan" => Some(Datum::Float(f64::NAN)),
                            "inf" => Some(Datum::Float(f64::INFINITY)),
                            "-inf" => Some(Datum::Float(f64::NEG_INFINITY)),
                            _ => None,
                        };
                    }
                    if let Some(Value::String(i)) = map.get("$int") {
                        return i.parse().ok().map(Datum::Int);
                    }
                    if let Some(Value::Object(inner)) = map.get("$dict") {
                        return Some(Datum::Map(
                            inner
                                .iter()
                                .map(|(k, v)| Some((k.clone(), Datum::from_wire(v)?)))
                                .collect::<Option<_>>()?,
                        ));
                    }
                }
                Datum::Map(
                    map.iter()
                        .map(|(k, v)| Some((k.clone(), Datum::from_wire(v)?)))
                        .collect::<Option<_>>()?,
                )
            }
        })
    }

    /// The tagged wire form.
    pub fn to_wire(&self) -> Value {
        match self {
            Datum::Null => Value::Null,
            Datum::Bool(b) => Value::Bool(*b),
            Datum::Int(i) => match i64::try_from(*i) {
                Ok(small) if small.unsigned_abs() <= 1 << 53 => Value::from(small),
                _ => tag("$int", Value::String(i.to_string())),
            },
            Datum::Float(f) if f.is_nan() => tag("$float", Value::String("nan".into())),
            Datum::Float(f) if f.is_infinite() => {
                tag("$float", Value::String(if *f > 0.0 { "inf" } else { "-inf" }.into()))
            }
            Datum::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Datum::Str(s) => Value::String(s.clone()),
            Datum::List(items) => Value::Array(items.iter().map(Datum::to_wire).collect()),
            Datum::Map(map) => {
                let inner: Map<String, Value> = map.iter().map(|(k, v)| (k.clone(), v.to_wire())).collect();
                if map.keys().any(|k| k.starts_with('$')) {
                    tag("$dict", Value::Object(inner))
                } else {
                    Value::Object(inner)
                }
            }
        }
    }

    /// Converts a YAML value (which, unlike JSON, can spell `.nan` and `.inf`).
    pub fn from_yaml(value: &serde_yaml::Value) -> Result<Datum, String> {
        use serde_yaml::Value as Y;
        Ok(match value {
            Y::Null => Datum::Null,
            Y::Bool(b) => Datum::Bool(*b),
            Y::Number(n) => {
                if let Some(i) = n.as_i64() {
                    Datum::Int(i as i128)
                } else if let Some(u) = n.as_u64() {
                    Datum::Int(u as i128)
                } else {
                    Datum::Float(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Y::String(s) => Datum::Str(s.clone()),
            Y::Sequence(items) => Datum::List(items.iter().map(Datum::from_yaml).collect::<Result<_, _>>()?),
            Y::Mapping(map) => {
                let mut out = BTreeMap::new();
                for (k, v) in map {
                    let Y::String(key) = k else {
                        return Err("map keys must be strings".into());
                    };
                    out.insert(key.clone(), Datum::from_yaml(v)?);
                }
                Datum::Map(out)
            }
            Y::Tagged(t) => Datum::from_yaml(&t.value)?,
        })
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Datum::Int(i) => Some(*i as f64),
            Datum::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// A short, single-line rendering for feedback about the student's own values.
    pub fn short(&self, max: usize) -> String {
        let text = self.to_string();
        if text.chars().count() <= max {
            text
        } else {
            let cut: String = text.chars().take(max).collect();
            format!("{cut}…")
        }
    }
}

fn tag(name: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(name.to_string(), value);
    Value::Object(map)
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Datum::Null => write!(f, "None"),
            Datum::Bool(b) => write!(f, "{}", if *b { "True" } else { "False" }),
            Datum::Int(i) => write!(f, "{i}"),
            Datum::Float(x) if x.is_nan() => write!(f, "nan"),
            Datum::Float(x) if x.is_infinite() => write!(f, "{}", if *x > 0.0 { "inf" } else { "-inf" }),
            Datum::Float(x) => write!(f, "{x:?}"),
            Datum::Str(s) => write!(f, "{s:?}"),
            Datum::List(items) => {
                write!(f, "[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{item}")?;
                }
                write!(f, "]")
            }
            Datum::Map(map) => {
                write!(f, "{{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                write!(f, "}}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_round_trip_keeps_specials() {
        let d = Datum::List(vec![
            Datum::Float(f64::NAN),
            Datum::Float(f64::NEG_INFINITY),
            Datum::Int(1 << 60),
            Datum::Map([("$x".to_string(), Datum::Int(1))].into()),
            Datum::Float(-0.5),
        ]);
        let back = Datum::from_wire(&d.to_wire()).unwrap();
        let Datum::List(items) = back else { panic!("not a list") };
        assert!(matches!(items[0], Datum::Float(f) if f.is_nan()));
        assert_eq!(items[1], Datum::Float(f64::NEG_INFINITY));
        assert_eq!(items[2], Datum::Int(1 << 60));
        assert_eq!(items[3], Datum::Map([("$x".to_string(), Datum::Int(1))].into()));
        assert_eq!(items[4], Datum::Float(-0.5));
    }
}
