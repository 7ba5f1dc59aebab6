//! Service-level objectives for `coldsim plan`: `p99 < 200ms`,
//! `cold_fraction < 1%`, `rejected = 0`, `provider_cost_usd < 12.5`, and
//! several joined with `and`.
//!
//! A clause is `METRIC OP VALUE`. `METRIC` is a numeric summary.csv column,
//! a shorthand (`p50`, `p90`, `p99`, `p999` for `latency_pNN_ms`) or a
//! derived ratio (`rejected_fraction` = rejected / arrivals,
//! `failed_fraction` = failed / arrivals). `OP` is `<`, `<=` or `=`: an SLO
//! bounds a metric from above. `VALUE` carries the column's unit: a
//! duration (`200ms`, `1.5s`, `800us`) for the `_ms` and `_s` columns, where
//! a bare number is refused as ambiguous; a percentage (`1%`) or a plain
//! fraction for the `_fraction` columns and `cpu_utilisation`; a plain
//! number otherwise (`%` is allowed on the `_pct_` columns, which are
//! percentages already).

use std::fmt;

use crate::report::{Cell, Row};

/// How a clause compares the metric with its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Eq,
}

impl Op {
    pub fn holds(self, x: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => x < threshold,
            Op::Le => x <= threshold,
            Op::Eq => x == threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Eq => "=",
        }
    }
}

/// Where a clause's metric comes from in a summary row.
#[derive(Clone, Debug, PartialEq)]
pub enum Metric {
    Column(String),
    /// `num / den` (0 when `den` is 0).
    Ratio {
        num: &'static str,
        den: &'static str,
    },
}

/// One `METRIC OP VALUE`.
#[derive(Clone, Debug, PartialEq)]
pub struct Clause {
    /// The name used in plan.csv: the column, or the derived ratio's name.
    pub name: String,
    pub metric: Metric,
    pub op: Op,
    pub threshold: f64,
    /// The clause as the user wrote it, trimmed.
    pub text: String,
}

impl Clause {
    /// The metric's value in one summary row.
    pub fn value(&self, row: &Row) -> f64 {
        let get = |k: &str| {
            row.iter()
                .find(|(n, _)| *n == k)
                .and_then(|(_, c)| c.as_f64())
                .unwrap_or(f64::NAN)
        };
        match &self.metric {
            Metric::Column(c) => get(c),
            Metric::Ratio { num, den } => {
                let d = get(den);
                if d == 0.0 { 0.0 } else { get(num) / d }
            }
        }
    }
}

/// A whole SLO: every clause must hold.
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub clauses: Vec<Clause>,
    pub text: String,
}

impl fmt::Display for Slo {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const DERIVED: [(&str, &str, &str); 2] = [
    ("rejected_fraction", "rejected", "arrivals"),
    ("failed_fraction", "failed", "arrivals"),
];

/// Parses an SLO against the columns of summary.csv (`columns`, one
/// summary row whose names and cell kinds are used). The error says what
/// was expected; the caller prefixes `--slo "TEXT": `.
pub fn parse(text: &str, columns: &Row) -> Result<Slo, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("empty; expected an objective such as \"p99 < 200ms\"".into());
    }
    let mut clauses = Vec::new();
    for part in split_and(trimmed) {
        clauses.push(parse_clause(part.trim(), columns)?);
    }
    Ok(Slo {
        clauses,
        text: trimmed.to_string(),
    })
}

/// Splits on the word `and` (any case) between clauses.
fn split_and(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        let before_ok = i == 0 || bytes[i - 1].is_ascii_whitespace();
        let after_ok = i + 3 == bytes.len() || bytes[i + 3].is_ascii_whitespace();
        if &bytes[i..i + 3] == b"and" && before_ok && after_ok {
            parts.push(&text[start..i]);
            start = i + 3;
            i += 3;
        } else {
            i += 1;
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_clause(clause: &str, columns: &Row) -> Result<Clause, String> {
    let example = "expected METRIC < VALUE, METRIC <= VALUE or METRIC = VALUE, such as \"p99 < 200ms\", \"cold_fraction < 1%\" or \"rejected = 0\", joined with \"and\"";
    if clause.is_empty() {
        return Err(format!("an empty clause; {example}"));
    }
    let Some(at) = clause.find(['<', '=', '>', '!']) else {
        return Err(format!("\"{clause}\" has no comparison; {example}"));
    };
    let name = clause[..at].trim();
    let rest = &clause[at..];
    let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
        (Op::Le, v)
    } else if let Some(v) = rest.strip_prefix("==") {
        (Op::Eq, v)
    } else if let Some(v) = rest.strip_prefix('<') {
        (Op::Lt, v)
    } else if let Some(v) = rest.strip_prefix('=') {
        (Op::Eq, v)
    } else {
        return Err(format!(
            "\"{clause}\": an SLO bounds a metric from above; use <, <= or = (not > or !=)"
        ));
    };
    let value = value.trim();
    if name.is_empty() {
        return Err(format!("\"{clause}\" names no metric; {example}"));
    }
    if value.is_empty() {
        return Err(format!("\"{clause}\" has no value; {example}"));
    }
    let (col, metric) = resolve_metric(name, columns)?;
    let threshold = parse_value(&col, value).map_err(|m| format!("\"{clause}\": {m}"))?;
    Ok(Clause {
        name: col,
        metric,
        op,
        threshold,
        text: clause.to_string(),
    })
}

fn resolve_metric(name: &str, columns: &Row) -> Result<(String, Metric), String> {
    let lower = name.to_ascii_lowercase();
    let short = match lower.as_str() {
        "p50" | "p90" | "p99" | "p999" => Some(format!("latency_{lower}_ms")),
        _ => None,
    };
    let col = short.unwrap_or(lower);
    if let Some((n, num, den)) = DERIVED.iter().find(|(n, _, _)| *n == col) {
        return Ok((n.to_string(), Metric::Ratio { num, den }));
    }
    match columns.iter().find(|(n, _)| *n == col) {
        Some((_, Cell::Text(_))) => Err(format!(
            "\"{name}\" is a text column of summary.csv; an SLO needs a numeric column"
        )),
        Some(_) => Ok((col.clone(), Metric::Column(col))),
        None => Err(format!(
            "\"{name}\" is not a summary.csv column, nor p50, p90, p99, p999, rejected_fraction or failed_fraction; see README, \"summary.csv\", for the columns"
        )),
    }
}

/// A threshold in the column's unit.
fn parse_value(col: &str, text: &str) -> Result<f64, String> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+' || c == 'e'))
        .unwrap_or(text.len());
    // "1e3" is a number but "1ms" ends in a unit; a trailing 'e' cannot be
    // part of a unit we know, so it only ever belongs to the number.
    let (num, unit) = text.split_at(split);
    let unit = unit.trim();
    let x: f64 = num
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| format!("\"{text}\" is not a number with an optional unit"))?;
    let is_ms = col.ends_with("_ms");
    let is_s = col.ends_with("_s") && !col.ends_with("_gb_s");
    let is_fraction = col.ends_with("_fraction") || col == "cpu_utilisation";
    let is_pct = col.contains("_pct_");
    if is_ms || is_s {
        let ms = match unit {
            "ms" => x,
            "s" => x * 1e3,
            "us" | "µs" => x * 1e-3,
            "ns" => x * 1e-6,
            "m" | "min" => x * 60e3,
            "" => {
                return Err(format!(
                    "bare number {num} is ambiguous for {col}; write a duration with a unit such as \"{num}ms\" or \"{num}s\""
                ));
            }
            u => {
                return Err(format!(
                    "unknown unit \"{u}\" for {col}; expected ns, us, ms, s or min"
                ));
            }
        };
        return Ok(if is_ms { ms } else { ms / 1e3 });
    }
    match unit {
        "" => Ok(x),
        "%" if is_fraction => Ok(x / 100.0),
        "%" if is_pct => Ok(x),
        u => Err(format!(
            "{col} takes a plain number{}, not \"{u}\"",
            if is_fraction {
                " or a percentage such as 1%"
            } else {
                ""
            }
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols() -> Row {
        vec![
            ("scenario", Cell::Text("x".into())),
            ("arrivals", Cell::Int(0)),
            ("rejected", Cell::Int(0)),
            ("cold_fraction", Cell::Float(0.0)),
            ("latency_p99_ms", Cell::Float(0.0)),
            ("provider_cost_usd", Cell::Float(0.0)),
            ("fn_cold_pct_p50", Cell::Float(0.0)),
        ]
    }

    #[test]
    fn parses_clauses_and_units() {
        let s = parse(
            "p99 < 0.2s AND cold_fraction <= 1% and rejected = 0 and provider_cost_usd < 12.5",
            &cols(),
        )
        .unwrap();
        let c = &s.clauses;
        assert_eq!(c.len(), 4);
        assert_eq!(
            (c[0].name.as_str(), c[0].op, c[0].threshold),
            ("latency_p99_ms", Op::Lt, 200.0)
        );
        assert_eq!((c[1].op, c[1].threshold), (Op::Le, 0.01));
        assert_eq!((c[2].op, c[2].threshold), (Op::Eq, 0.0));
        assert_eq!(c[3].threshold, 12.5);
        let r = parse("rejected_fraction < 1%", &cols()).unwrap();
        assert_eq!(r.clauses[0].threshold, 0.01);
        assert_eq!(
            parse("fn_cold_pct_p50 < 5%", &cols()).unwrap().clauses[0].threshold,
            5.0
        );
    }

    #[test]
    fn refuses_bad_slos() {
        for (bad, want) in [
            ("", "empty"),
            ("p99 200ms", "no comparison"),
            ("p99 > 200ms", "bounds a metric from above"),
            ("p98 < 1s", "not a summary.csv column"),
            ("scenario = x", "text column"),
            ("p99 < 200", "ambiguous"),
            ("p99 < 200 parsecs", "unknown unit"),
            ("rejected < 1%", "plain number"),
            ("p99 < 1s and", "empty clause"),
            ("< 3", "names no metric"),
            ("rejected =", "no value"),
            ("rejected = many", "not a number"),
        ] {
            let e = parse(bad, &cols()).unwrap_err();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
