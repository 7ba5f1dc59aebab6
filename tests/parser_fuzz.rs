//! The scenario parser never panics: random text and random mutations of a
//! valid scenario only ever give Ok or an error, and every error is one line
//! per mistake, each naming the file. What parses prints back (`coldsim check`) as TOML
//! that parses to the same scenario.

use coldsim::scenario::{DEFAULT_SCENARIO, parse_str, to_toml};
use proptest::prelude::*;

fn check(text: &str) -> Result<(), TestCaseError> {
    match parse_str(text, "fuzz.toml") {
        Ok(sf) => {
            let printed = to_toml(&sf.base);
            let again = parse_str(&printed, "printed.toml").map_err(|e| {
                TestCaseError::fail(format!("printed scenario fails: {e}\n{printed}"))
            })?;
            prop_assert_eq!(again.base, sf.base);
        }
        Err(e) => {
            // One line per mistake (independent mistakes are all reported),
            // each naming the file.
            let msg = e.to_string();
            prop_assert!(!msg.is_empty() && !msg.ends_with('\n'), "{:?}", msg);
            for line in msg.lines() {
                prop_assert!(
                    line.starts_with("fuzz.toml"),
                    "error line does not name the file: {}",
                    line
                );
                prop_assert!(!line.contains('\r'), "error line has a CR: {:?}", line);
            }
        }
    }
    Ok(())
}

/// Tokens that make mutations likely to reach deep into the schema.
const TOKENS: &[&str] = &[
    "\"0s\"",
    "0",
    "-1",
    "1e400",
    "\"1.5.2s\"",
    "\"\"",
    "[]",
    "{}",
    "true",
    "\"-5ms\"",
    "\"99999999999999999999d\"",
    "\"3/fortnight\"",
    "\"0/s\"",
    "nan",
    "inf",
    "\"ZZ\"",
    "dist",
    "kind",
    "\"empirical\"",
    "\"gamma\"",
    "p = [100, 0]",
    "[[functions]]",
    "[sweep]",
    "\"functions[9].x\" = [1]",
    "replicates = 0",
    "\"0MiB\"",
    "\"1TiB\"",
    "=",
    "\n",
    "\"",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        check(&text)?;
    }

    #[test]
    fn mutated_scenarios_never_panic(
        edits in proptest::collection::vec((0usize..100_000, 0usize..40, 0usize..TOKENS.len()), 1..4)
    ) {
        let mut text = DEFAULT_SCENARIO.to_string();
        for (pos, del, tok) in edits {
            let mut at = pos % (text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + del).min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.replace_range(at..end, TOKENS[tok]);
        }
        check(&text)?;
    }

    /// Replace one value of the default scenario by a token.
    #[test]
    fn replaced_values_never_panic(line in 0usize..200, tok in 0usize..TOKENS.len()) {
        let lines: Vec<&str> = DEFAULT_SCENARIO.lines().collect();
        let i = line % lines.len();
        let mut out: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        if let Some((k, _)) = lines[i].split_once('=') {
            out[i] = format!("{k}= {}", TOKENS[tok]);
        }
        check(&out.join("\n"))?;
    }
}

#[test]
fn sweep_scenarios_round_trip() {
    let text = format!(
        "{DEFAULT_SCENARIO}\n[sweep]\nreplicates = 2\n\"keepalive.ttl\" = [\"1m\", \"5m\"]\n\"hosts.count\" = [2, 8]\n"
    );
    let sf = parse_str(&text, "s.toml").unwrap();
    assert_eq!(sf.points.len(), 4);
    assert_eq!(sf.replicates, 2);
    check(&text).unwrap();
}
