//! Sweep grids: a `[sweep]` table maps key paths to lists of values, and
//! `replicates` repeats every point with seeds derived from the base seed.
//!
//! ```toml
//! [sweep]
//! replicates = 3
//! "keepalive.ttl" = ["5m", "10m", "20m"]
//! "hosts.count" = [50, 100]
//! "functions[api].memory_mb" = [256, 512]   # or functions[0].memory_mb
//! ```
//!
//! Points are the cartesian product, the first key varying slowest, numbered
//! from 0 in that order. Every point is built by setting its values in the
//! scenario's TOML and loading the result exactly as a file is loaded, so a
//! bad value is caught, with its point named, before anything runs. All points
//! of one replicate share the replicate's random streams (common random
//! numbers), so a difference between points is the policy's, not the noise's.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::Value;

use super::{Scenario, validate};
use crate::error::{Error, Result};

/// The `[sweep]` table.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepSpec {
    pub replicates: u32,
    /// Key path and the values it takes, in file order.
    pub axes: Vec<(String, Vec<Value>)>,
}

/// One point of a sweep grid: its values and the scenario they give.
#[derive(Clone, Debug)]
pub struct SweepPoint {
    pub index: usize,
    pub values: Vec<(String, Value)>,
    pub scenario: Scenario,
}

impl Serialize for SweepSpec {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.axes.len() + 1))?;
        m.serialize_entry("replicates", &self.replicates)?;
        for (k, v) in &self.axes {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for SweepSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SweepSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of key paths to lists of values, and `replicates`")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<SweepSpec, A::Error> {
                let mut spec = SweepSpec {
                    replicates: 1,
                    axes: Vec::new(),
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key == "replicates" {
                        spec.replicates = map.next_value()?;
                        continue;
                    }
                    parse_path(&key).map_err(de::Error::custom)?;
                    let vals: Value = map.next_value()?;
                    match vals {
                        Value::Array(a) if !a.is_empty() => spec.axes.push((key, a)),
                        _ => {
                            return Err(de::Error::custom(format!(
                                "\"{key}\": expected a non-empty list of values"
                            )));
                        }
                    }
                }
                Ok(spec)
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
    Named(String),
}

/// `a.b[2].c` or `functions[api].exec` into segments.
fn parse_path(path: &str) -> std::result::Result<Vec<Seg>, String> {
    let bad = || {
        format!(
            "\"{path}\" is not a key path such as \"keepalive.ttl\" or \"functions[0].memory_mb\""
        )
    };
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(bad());
        }
        segs.push(Seg::Key(key.to_string()));
        while !rest.is_empty() {
            let close = rest.find(']').ok_or_else(bad)?;
            if !rest.starts_with('[') || close < 2 {
                return Err(bad());
            }
            let inner = &rest[1..close];
            segs.push(match inner.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::Named(inner.to_string()),
            });
            rest = &rest[close + 1..];
        }
    }
    Ok(segs)
}

fn set_in_value(root: &mut Value, path: &str, value: Value) -> std::result::Result<(), String> {
    let segs = parse_path(path)?;
    let mut cur: &mut Value = root;
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        cur = match seg {
            Seg::Key(k) => {
                let t = cur
                    .as_table_mut()
                    .ok_or_else(|| format!("\"{path}\": \"{k}\" is not inside a table"))?;
                if last {
                    t.insert(k.clone(), value.clone());
                    return Ok(());
                }
                t.entry(k.clone())
                    .or_insert_with(|| Value::Table(toml::Table::new()))
            }
            Seg::Index(n) => {
                let a = cur.as_array_mut().ok_or_else(|| {
                    format!("\"{path}\": [{n}] indexes something that is not a list")
                })?;
                let len = a.len();
                let slot = a.get_mut(*n).ok_or_else(|| {
                    format!("\"{path}\": index {n} is out of range (the list has {len})")
                })?;
                if last {
                    *slot = value.clone();
                    return Ok(());
                }
                slot
            }
            Seg::Named(name) => {
                let a = cur.as_array_mut().ok_or_else(|| {
                    format!("\"{path}\": [{name}] selects from something that is not a list")
                })?;
                let slot = a
                    .iter_mut()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .ok_or_else(|| format!("\"{path}\": no entry is named \"{name}\""))?;
                if last {
                    *slot = value.clone();
                    return Ok(());
                }
                slot
            }
        };
    }
    Ok(())
}

/// The value at `path` in a table, `None` when the path is well formed but
/// nothing is there (an unset optional key such as `limits.max_concurrency`).
/// Errors as [`expand`] would report a bad path.
pub fn get_path<'a>(
    root: &'a toml::Table,
    path: &str,
) -> std::result::Result<Option<&'a Value>, String> {
    let segs = parse_path(path)?;
    let mut cur: Option<&Value> = None;
    for seg in &segs {
        let next = match (seg, cur) {
            (Seg::Key(k), None) => root.get(k),
            (Seg::Key(k), Some(v)) => match v.as_table() {
                Some(t) => t.get(k),
                None => return Err(format!("\"{path}\": \"{k}\" is not inside a table")),
            },
            (Seg::Index(n), Some(Value::Array(a))) => Some(a.get(*n).ok_or_else(|| {
                format!(
                    "\"{path}\": index {n} is out of range (the list has {})",
                    a.len()
                )
            })?),
            (Seg::Named(name), Some(Value::Array(a))) => Some(
                a.iter()
                    .find(|v| v.get("name").and_then(Value::as_str) == Some(name.as_str()))
                    .ok_or_else(|| format!("\"{path}\": no entry is named \"{name}\""))?,
            ),
            (Seg::Index(_) | Seg::Named(_), _) => {
                return Err(format!(
                    "\"{path}\": selects from something that is not a list"
                ));
            }
        };
        match next {
            Some(v) => cur = Some(v),
            None => return Ok(None),
        }
    }
    Ok(cur)
}

/// Applies every override to a copy of the base table.
fn apply(
    base: &toml::Table,
    values: &[(String, Value)],
) -> std::result::Result<toml::Table, String> {
    let mut table = base.clone();
    for (path, v) in values {
        set_path_owned(&mut table, path, v.clone())?;
    }
    Ok(table)
}

/// `set_path` on a table we own, keeping the table if the path is bad.
fn set_path_owned(t: &mut toml::Table, path: &str, v: Value) -> std::result::Result<(), String> {
    let mut wrapped = Value::Table(std::mem::take(t));
    let r = set_in_value(&mut wrapped, path, v);
    if let Value::Table(back) = wrapped {
        *t = back;
    }
    r
}

/// Expands a sweep into its points, each loaded and validated.
///
/// Values are set in the *resolved* base scenario, every default filled in,
/// so `"keepalive.ttl"` works in a file without a `[keepalive]` table. To
/// sweep over policies of different kinds, give whole tables as values:
/// `"keepalive" = [{ kind = "none" }, { kind = "fixed", ttl = "10m" }]`.
pub fn expand(resolved: &Scenario, origin: &str, spec: &SweepSpec) -> Result<Vec<SweepPoint>> {
    let mut plain = resolved.clone();
    plain.sweep = None;
    let base: toml::Table = toml::Table::try_from(&plain)
        .map_err(|e| Error::input(origin, format!("cannot expand the sweep: {e}")))?;
    let n: usize = spec.axes.iter().map(|(_, v)| v.len()).product();
    if n > 1_000_000 {
        return Err(Error::input(
            format!("{origin}: sweep"),
            format!("the grid has {n} points; at most 1,000,000 are allowed"),
        ));
    }
    let mut points = Vec::with_capacity(n);
    for index in 0..n {
        // Mixed radix, first axis slowest.
        let mut rem = index;
        let mut values = vec![(String::new(), Value::Boolean(false)); spec.axes.len()];
        for (a, (path, vals)) in spec.axes.iter().enumerate().rev() {
            values[a] = (path.clone(), vals[rem % vals.len()].clone());
            rem /= vals.len();
        }
        let label = describe(&values);
        let point_origin = format!("{origin}: sweep point {index} ({label})");
        let table = apply(&base, &values).map_err(|m| Error::input(&point_origin, m))?;
        let mut scenario: Scenario = serde_path_to_error::deserialize(Value::Table(table))
            .map_err(|e| {
                let (path, msg) =
                    crate::cfg::split_nested(&e.path().to_string(), e.inner().message());
                Error::input(format!("{point_origin}: {path}"), msg)
            })?;
        scenario.resolve();
        validate(&scenario, &point_origin, "")?;
        points.push(SweepPoint {
            index,
            values,
            scenario,
        });
    }
    Ok(points)
}

/// `keepalive.ttl = "5m", hosts.count = 50`
pub fn describe(values: &[(String, Value)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k} = {}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A value as it reads in a CSV cell: strings without quotes.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse() {
        assert_eq!(
            parse_path("functions[2].memory_mb").unwrap(),
            vec![
                Seg::Key("functions".into()),
                Seg::Index(2),
                Seg::Key("memory_mb".into())
            ]
        );
        assert_eq!(
            parse_path("functions[api].exec").unwrap()[1],
            Seg::Named("api".into())
        );
        for bad in ["", "a..b", "a[", "a[]", ".a", "a]b"] {
            assert!(parse_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn set_creates_tables_and_indexes_lists() {
        let mut t: toml::Table =
            toml::from_str("[[functions]]\nname = \"a\"\n[[functions]]\nname = \"b\"\n").unwrap();
        set_path_owned(&mut t, "keepalive.ttl", Value::String("5m".into())).unwrap();
        set_path_owned(&mut t, "functions[b].memory_mb", Value::Integer(7)).unwrap();
        set_path_owned(&mut t, "functions[0].memory_mb", Value::Integer(3)).unwrap();
        assert_eq!(t["keepalive"]["ttl"].as_str(), Some("5m"));
        assert_eq!(t["functions"][1]["memory_mb"].as_integer(), Some(7));
        assert_eq!(t["functions"][0]["memory_mb"].as_integer(), Some(3));
        assert!(set_path_owned(&mut t, "functions[9].x", Value::Integer(1)).is_err());
        assert!(set_path_owned(&mut t, "functions[zz].x", Value::Integer(1)).is_err());
        // The table survives a bad path.
        assert!(t.contains_key("functions"));
    }
}
