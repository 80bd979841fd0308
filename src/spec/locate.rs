//! Maps a field path such as `tests[2].score.ramp.full_at` to its line and column in a YAML text.
//!
//! serde gives field paths; serde_yaml loses positions inside tagged enums and has none for
//! problems found after parsing. This index, built from yaml-rust2's marked parser events,
//! fills that gap so that every spec error can point at a line and column.

use std::collections::HashMap;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

/// A 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// Positions of every key and sequence item of one YAML document, keyed by path.
#[derive(Debug, Default)]
pub struct PositionIndex {
    positions: HashMap<String, Position>,
}

enum Frame {
    Map {
        path: String,
        expecting_key: bool,
        key: Option<String>,
    },
    Seq {
        path: String,
        next: usize,
    },
}

struct Builder {
    index: PositionIndex,
    stack: Vec<Frame>,
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

impl Builder {
    /// The path of the value that starts now, registering its position; `None` for keys.
    fn value_path(&mut self, mark: Marker, scalar: Option<&str>, starts_map: bool) -> Option<String> {
        let pos = Position {
            line: mark.line(),
            column: mark.col() + 1,
        };
        match self.stack.last_mut() {
            None => Some(String::new()),
            Some(Frame::Map {
                path,
                expecting_key,
                key,
            }) => {
                if *expecting_key {
                    let k = scalar.unwrap_or("?").to_string();
                    let full = join(path, &k);
                    self.index.positions.entry(full).or_insert(pos);
                    // A mapping's own position is that of its first key (the parser's mark
                    // for the start of a block mapping inside a sequence is one column late).
                    self.index.positions.entry(path.clone()).or_insert(pos);
                    *key = Some(k);
                    *expecting_key = false;
                    None
                } else {
                    *expecting_key = true;
                    Some(join(path, key.as_deref().unwrap_or("?")))
                }
            }
            Some(Frame::Seq { path, next }) => {
                let full = format!("{path}[{next}]");
                *next += 1;
                if !starts_map {
                    self.index.positions.entry(full.clone()).or_insert(pos);
                }
                Some(full)
            }
        }
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(value, ..) => {
                self.value_path(mark, Some(&value), false);
            }
            Event::Alias(_) => {
                self.value_path(mark, None, false);
            }
            Event::MappingStart(..) => {
                // A mapping used as a key is not supported in specs; treat it as a value.
                let path = self.value_path(mark, None, true).unwrap_or_default();
                self.stack.push(Frame::Map {
                    path,
                    expecting_key: true,
                    key: None,
                });
            }
            Event::SequenceStart(..) => {
                let path = self.value_path(mark, None, false).unwrap_or_default();
                self.stack.push(Frame::Seq { path, next: 0 });
            }
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

impl PositionIndex {
    /// Builds the index; a text that does not parse gives an empty index (the
    /// YAML parser's own error already carries a position).
    pub fn build(text: &str) -> PositionIndex {
        let mut builder = Builder {
            index: PositionIndex::default(),
            stack: Vec::new(),
        };
        let mut parser = Parser::new_from_str(text);
        if parser.load(&mut builder, false).is_err() {
            return PositionIndex::default();
        }
        builder.index
    }

    /// The first key named `key` below `prefix` (by position), with its full path.
    pub fn find_key_under(&self, prefix: &str, key: &str) -> Option<(String, Position)> {
        self.positions
            .iter()
            .filter(|(p, _)| {
                p.starts_with(prefix) && p[prefix.len()..].starts_with(['.', '[']) && (p.ends_with(&format!(".{key}")))
            })
            .min_by_key(|(_, pos)| (pos.line, pos.column))
            .map(|(p, pos)| (p.clone(), *pos))
    }

    /// The position of `path`, or of its nearest ancestor that has one.
    pub fn find(&self, path: &str) -> Option<Position> {
        let mut current = path.to_string();
        loop {
            if let Some(pos) = self.positions.get(&current) {
                return Some(*pos);
            }
            let cut = current.rfind(['.', '['])?;
            current.truncate(cut);
            if current.is_empty() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_keys_and_items() {
        let text = "a: 1\nb:\n  c: [x, y]\n  d:\n    - e: 2\n      f: 3\n";
        let index = PositionIndex::build(text);
        assert_eq!(index.find("a"), Some(Position { line: 1, column: 1 }));
        assert_eq!(index.find("b.c"), Some(Position { line: 3, column: 3 }));
        assert_eq!(index.find("b.c[1]"), Some(Position { line: 3, column: 10 }));
        assert_eq!(index.find("b.d[0].f"), Some(Position { line: 6, column: 7 }));
        // An unknown child falls back to its parent.
        assert_eq!(index.find("b.d[0].zzz"), Some(Position { line: 5, column: 7 }));
    }
}
