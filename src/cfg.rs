//! The building blocks of configuration: key paths in error messages,
//! tables tagged by a `kind` (or `dist`) key, and validation.
//!
//! Every component owns the configuration it reads (a placement policy its
//! keys, a trace reader its columns); the scenario schema only assembles
//! them. This module gives them one way to do the three things every such
//! table needs:
//!
//! * **Tagged tables.** `[placement]\nkind = "random"\ntries = 3` is an
//!   enum chosen by its `kind`. serde's internally tagged enums buffer the
//!   table and lose the key path of an error inside it, so [`tagged!`]
//!   derives the enum in serde's *externally* tagged form
//!   (`{ random = { tries = 3 } }`, which serde reads without buffering)
//!   and converts between the two forms at the edge. An error then names
//!   `placement.tries` and its line.
//! * **Key paths.** Errors carry the path of the key they are about
//!   ([`KeyError`]); the scenario loader prefixes the file and line.
//! * **Validation.** What serde cannot check (a positive duration, a
//!   probability in range, keys that depend on each other) is checked by
//!   [`Validate`], which reports every mistake it finds, each with its key
//!   path ([`Check`]). A tagged enum validates by an exhaustive match over
//!   its variants, each of which must implement [`Validate`]: a new policy
//!   without validation does not compile.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// Marks a nested key path inside a serde error message: `NESTED path
/// NESTED message`, taken apart again by [`split_nested`]. serde's error
/// type carries only a message, so a tagged table that knows the path of
/// an error inside it passes the path on this way.
pub(crate) const NESTED: char = '\u{1}';

/// Joins an outer key path with a nested one carried in `msg`, if any, and
/// returns (path, message) with the message on one line.
pub(crate) fn split_nested(outer: &str, msg: &str) -> (String, String) {
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix(NESTED)
        && let Some((inner, m)) = rest.split_once(NESTED)
    {
        let (inner, m) = split_nested(inner, m);
        let path = match (
            outer.is_empty() || outer == ".",
            inner.is_empty() || inner == ".",
        ) {
            (true, _) => inner,
            (false, true) => outer.to_string(),
            (false, false) => join(outer, &inner),
        };
        return (path, m);
    }
    (outer.to_string(), one_line(msg))
}

/// `outer.inner`, or `outer[2]` when `inner` is an index.
fn join(outer: &str, inner: &str) -> String {
    if inner.starts_with('[') {
        format!("{outer}{inner}")
    } else {
        format!("{outer}.{inner}")
    }
}

/// A message on one line: newlines and carriage returns become spaces.
pub(crate) fn one_line(msg: &str) -> String {
    msg.replace(['\n', '\r'], " ")
}

/// One line for an error of the TOML parser or of deserializing:
/// `file:line:col: key.path: message`. A missing key is named as a key path
/// (`file: hosts.count: missing required key`), since it has no line of its
/// own.
pub(crate) fn toml_error(text: &str, origin: &str, path: &str, e: &toml::de::Error) -> Error {
    let (path, msg) = split_nested(path, e.message());
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some(field) = rest.strip_suffix('`')
    {
        let key = if path.is_empty() || path == "." {
            field.to_string()
        } else {
            format!("{path}.{field}")
        };
        return Error::input(format!("{origin}: {key}"), "missing required key");
    }
    let mut place = origin.to_string();
    if let Some(span) = e.span() {
        let (line, col) = line_col(text, span.start);
        place = format!("{place}:{line}:{col}");
    }
    if !path.is_empty() && path != "." {
        place = format!("{place}: {path}");
    }
    Error::input(place, msg)
}

/// The 1-based line and column of a byte offset.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// A mistake in a configuration: the key path it is about (relative to the
/// table being checked, such as `keepalive.margin` or `functions[2].exec`)
/// and what was expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyError {
    pub path: String,
    pub msg: String,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.msg)
    }
}

/// Collects the mistakes found while validating, each with its key path.
#[derive(Debug, Default)]
pub struct Check {
    path: Vec<String>,
    errors: Vec<KeyError>,
}

impl Check {
    pub fn new() -> Check {
        Check::default()
    }

    /// Records a mistake at `key` below the current path (`""`: the current
    /// path itself).
    pub fn err(&mut self, key: &str, msg: impl Into<String>) {
        let mut path = self.path.concat();
        if !key.is_empty() {
            path = if path.is_empty() {
                key.to_string()
            } else {
                join(&path, key)
            };
        }
        self.errors.push(KeyError {
            path,
            msg: one_line(&msg.into()),
        });
    }

    /// Records `Err(msg)` at `key`.
    pub fn result(&mut self, key: &str, r: Result<(), String>) {
        if let Err(m) = r {
            self.err(key, m);
        }
    }

    /// Runs `f` with `key` (a name, or an index such as `[2]`) appended to
    /// the current path.
    pub fn at<R>(&mut self, key: &str, f: impl FnOnce(&mut Check) -> R) -> R {
        let seg = if key.starts_with('[') || self.path.is_empty() {
            key.to_string()
        } else {
            format!(".{key}")
        };
        self.path.push(seg);
        let r = f(self);
        self.path.pop();
        r
    }

    /// Validates `v` at `key`.
    pub fn nested<V: Validate + ?Sized>(&mut self, key: &str, v: &V) {
        self.at(key, |c| v.validate(c));
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The mistakes found, in the order they were found.
    pub fn into_errors(self) -> Vec<KeyError> {
        self.errors
    }

    /// Ok when nothing was found, else the first mistake.
    pub fn first(self) -> Result<(), KeyError> {
        match self.errors.into_iter().next() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

/// Checks what deserializing cannot. Implementations report every mistake
/// they find through [`Check::err`], relative to their own table.
pub trait Validate {
    fn validate(&self, c: &mut Check);
}

impl<T: Validate> Validate for Option<T> {
    fn validate(&self, c: &mut Check) {
        if let Some(v) = self {
            v.validate(c);
        }
    }
}

impl<T: Validate + ?Sized> Validate for Box<T> {
    fn validate(&self, c: &mut Check) {
        (**self).validate(c);
    }
}

/// Validates `v` on its own: Ok, or the first mistake.
pub fn validate<V: Validate + ?Sized>(v: &V) -> Result<(), KeyError> {
    let mut c = Check::new();
    v.validate(&mut c);
    c.first()
}

/// Deserializes a tagged table through `external`, the externally tagged
/// form of the enum (which [`tagged!`] derives): removes the `tag` key (or
/// uses `default` when the table has none), and reads `{ <tag value> =
/// <the other keys> }`, keeping the key path of any error. `what` names the
/// table in the message for an unknown tag value (`unknown placement kind
/// ...`).
pub fn de_tagged<'de, D, T>(
    d: D,
    tag: &'static str,
    default: Option<&str>,
    what: &str,
    external: fn(
        serde_path_to_error::Deserializer<'_, '_, toml::Value>,
    ) -> Result<T, toml::de::Error>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    let mut t = toml::Table::deserialize(d)?;
    let variant = match t.remove(tag) {
        Some(toml::Value::String(k)) => k,
        Some(other) => {
            return Err(D::Error::custom(format!(
                "{NESTED}{tag}{NESTED}expected a string, found {}",
                other.type_str()
            )));
        }
        None => match default {
            Some(k) => k.to_string(),
            None => return Err(D::Error::missing_field(tag)),
        },
    };
    let mut outer = toml::Table::new();
    outer.insert(variant.clone(), toml::Value::Table(t));
    let mut track = serde_path_to_error::Track::new();
    let de = serde_path_to_error::Deserializer::new(toml::Value::Table(outer), &mut track);
    external(de).map_err(|e| {
        let path = track.path();
        // The first segment is the variant (the tag's value); an error
        // without one is about the tag itself.
        let mut segments = path.iter();
        let mut p = String::new();
        if segments.next().is_none() {
            p.push_str(tag);
        }
        for seg in segments {
            let is_index = matches!(seg, serde_path_to_error::Segment::Seq { .. });
            if !p.is_empty() && !is_index {
                p.push('.');
            }
            p.push_str(&seg.to_string());
        }
        let raw = e.message();
        let msg = match raw.strip_prefix("unknown variant `") {
            Some(rest) if p == tag => {
                let expected = rest.split_once("`, ").map_or("", |(_, x)| x);
                if tag == "kind" {
                    format!("unknown {what} kind `{variant}`, {expected}")
                } else {
                    format!("unknown {what} `{variant}`, {expected}")
                }
            }
            _ => raw.to_string(),
        };
        let (p, msg) = split_nested(&p, &msg);
        D::Error::custom(format!("{NESTED}{p}{NESTED}{msg}"))
    })
}

/// Serializes an enum in the tagged form, given its externally tagged
/// form as a TOML value: `{ <variant> = { keys } }` (or `"<variant>"`)
/// becomes `tag = "<variant>"` followed by the keys.
pub fn ser_tagged<S: Serializer>(
    external: Result<toml::Value, toml::ser::Error>,
    s: S,
    tag: &'static str,
) -> Result<S::Ok, S::Error> {
    use serde::ser::Error as _;
    let mut out = toml::Table::new();
    match external.map_err(S::Error::custom)? {
        toml::Value::String(variant) => {
            out.insert(tag.to_string(), toml::Value::String(variant));
        }
        toml::Value::Table(t) => {
            let Some((variant, inner)) = t.into_iter().next() else {
                return Err(S::Error::custom("an empty tagged table"));
            };
            out.insert(tag.to_string(), toml::Value::String(variant));
            match inner {
                toml::Value::Table(keys) => out.extend(keys),
                other => {
                    return Err(S::Error::custom(format!(
                        "a tagged table's variant holds a {}",
                        other.type_str()
                    )));
                }
            }
        }
        other => {
            return Err(S::Error::custom(format!(
                "a tagged table serialized as a {}",
                other.type_str()
            )));
        }
    }
    out.serialize(s)
}

/// Implements `Serialize` and `Deserialize` for an enum in its tagged form
/// (`tag = "variant"` beside the variant's keys), given that the enum
/// derives both with `#[serde(remote = "Self")]`, which gives it the
/// externally tagged form as inherent functions.
///
/// `tagged!(PlacementCfg, "kind", "placement")`: `kind` is required;
/// `tagged!(WorkloadCfg, "kind", "workload", default = "functions")`: a
/// table without `kind` is that variant.
#[macro_export]
#[doc(hidden)]
macro_rules! tagged {
    ($ty:ty, $tag:literal, $what:literal $(, default = $default:literal)?) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                struct External<'a>(&'a $ty);
                impl serde::Serialize for External<'_> {
                    fn serialize<S2: serde::Serializer>(&self, s: S2) -> Result<S2::Ok, S2::Error> {
                        <$ty>::serialize(self.0, s)
                    }
                }
                $crate::cfg::ser_tagged(toml::Value::try_from(External(self)), s, $tag)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                #[allow(unused_mut, unused_assignments)]
                let mut default: Option<&str> = None;
                $(default = Some($default);)?
                $crate::cfg::de_tagged(d, $tag, default, $what, |de| <$ty>::deserialize(de))
            }
        }
    };
}
pub use crate::tagged;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(remote = "Self", rename_all = "kebab-case", deny_unknown_fields)]
    enum Shape {
        Circle {
            r: u32,
        },
        Square {
            #[serde(default)]
            side: u32,
        },
        #[serde(alias = "nothing")]
        Empty,
    }
    tagged!(Shape, "kind", "shape");

    #[derive(Debug, Deserialize, Serialize)]
    #[serde(deny_unknown_fields)]
    struct Doc {
        shape: Shape,
    }

    fn parse(text: &str) -> Result<Doc, Error> {
        let de = toml::Deserializer::parse(text).map_err(|e| toml_error(text, "t", "", &e))?;
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            toml_error(text, "t", &path, e.inner())
        })
    }

    #[test]
    fn tagged_tables_read_and_print_with_their_tag_first() {
        let d = parse("[shape]\nkind = \"circle\"\nr = 3\n").unwrap();
        assert_eq!(d.shape, Shape::Circle { r: 3 });
        assert_eq!(
            toml::to_string(&d).unwrap(),
            "[shape]\nkind = \"circle\"\nr = 3\n"
        );
        assert_eq!(
            parse("[shape]\nkind = \"square\"\n").unwrap().shape,
            Shape::Square { side: 0 }
        );
        assert_eq!(
            parse("[shape]\nkind = \"nothing\"\n").unwrap().shape,
            Shape::Empty
        );
        assert_eq!(
            toml::to_string(&Doc {
                shape: Shape::Empty
            })
            .unwrap(),
            "[shape]\nkind = \"empty\"\n"
        );
    }

    #[test]
    fn errors_inside_tagged_tables_name_their_key() {
        let e = parse("[shape]\nkind = \"circle\"\nr = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t:") && e.contains("shape.r"), "{e}");
        let e = parse("[shape]\nkind = \"oval\"\n").unwrap_err().to_string();
        assert!(
            e.contains("shape.kind") && e.contains("unknown shape kind `oval`, expected one of"),
            "{e}"
        );
        let e = parse("[shape]\nr = 1\n").unwrap_err().to_string();
        assert_eq!(e, "t: shape.kind: missing required key");
        let e = parse("[shape]\nkind = \"circle\"\nr = 1\nq = 2\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("shape.q") || e.contains("unknown field `q`"),
            "{e}"
        );
        let e = parse("[shape]\nkind = \"empty\"\nq = 2\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("shape"), "{e}");
    }

    #[test]
    fn check_collects_every_mistake_with_its_path() {
        struct Inner(u32);
        impl Validate for Inner {
            fn validate(&self, c: &mut Check) {
                if self.0 == 0 {
                    c.err("n", "must be greater than zero");
                }
            }
        }
        let mut c = Check::new();
        c.at("functions", |c| {
            c.nested("[0]", &Inner(0));
            c.nested("[1]", &Inner(1));
            c.nested("[2]", &Inner(0));
        });
        c.err("name", "bad\nname");
        let errs = c.into_errors();
        assert_eq!(
            errs.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            [
                "functions[0].n: must be greater than zero",
                "functions[2].n: must be greater than zero",
                "name: bad name"
            ]
        );
    }
}
