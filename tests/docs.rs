//! The documentation stays true to the program:
//!
//! * README's tutorial runs: every `coldsim ...` command of its `sh` blocks
//!   runs with the built binary in a temporary folder, the outputs the
//!   tutorial names exist, and the output it shows is what the commands
//!   print and write. The book's tutorial shows the same commands and output.
//! * Every scenario key is documented: every key path, table and `kind` /
//!   `dist` value that `coldsim check` prints for a shipped scenario appears
//!   in the book's scenario reference pages.
//! * Links hold: every link in README.md to a file of the repository, and
//!   every link between the book's pages, points to an existing file (and
//!   heading, when it names one).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &Path) -> String {
    fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

// ---------------------------------------------------------------------------
// A little Markdown: headings, sections, fenced blocks, inline code, links.

/// The level and text of a heading line (`## Text` gives `(2, "Text")`).
fn heading(line: &str) -> Option<(usize, &str)> {
    let level = line.chars().take_while(|&c| c == '#').count();
    if (1..=6).contains(&level) && line[level..].starts_with(' ') {
        Some((level, line[level..].trim()))
    } else {
        None
    }
}

/// The lines of `md` outside fenced code blocks, with their line numbers.
fn prose_lines(md: &str) -> Vec<(usize, &str)> {
    let mut fence = false;
    let mut out = Vec::new();
    for (i, line) in md.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fence = !fence;
            continue;
        }
        if !fence {
            out.push((i + 1, line));
        }
    }
    out
}

/// The section of `md` under the first heading (outside code) whose text
/// satisfies `pick`, up to the next heading of the same or a higher level.
fn section(md: &str, pick: impl Fn(usize, &str) -> bool) -> Option<String> {
    let lines: Vec<&str> = md.lines().collect();
    let prose = prose_lines(md);
    let (start, level) = prose.iter().find_map(|&(n, l)| {
        heading(l)
            .filter(|&(lv, t)| pick(lv, t))
            .map(|(lv, _)| (n - 1, lv))
    })?;
    let end = prose
        .iter()
        .find_map(|&(n, l)| match heading(l) {
            Some((lv, _)) if n - 1 > start && lv <= level => Some(n - 1),
            _ => None,
        })
        .unwrap_or(lines.len());
    Some(lines[start..end].join("\n"))
}

/// The fenced code blocks of `md`: (language, body).
fn code_blocks(md: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // (language, indentation of the fence, body lines)
    let mut cur: Option<(String, usize, Vec<&str>)> = None;
    for line in md.lines() {
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("```") {
            match cur.take() {
                None => cur = Some((rest.trim().to_string(), line.len() - t.len(), Vec::new())),
                Some((lang, _, body)) => out.push((lang, body.join("\n"))),
            }
        } else if let Some((_, indent, body)) = cur.as_mut() {
            // Drop the fence's own indentation (a block inside a list item).
            let n = line.len() - line.trim_start_matches(' ').len();
            body.push(&line[n.min(*indent)..]);
        }
    }
    out
}

/// The paragraphs of `md` outside fenced blocks (a heading is one on its
/// own), each with the number of its first line.
fn paragraphs(md: &str) -> Vec<(usize, String)> {
    let mut out: Vec<(usize, String)> = Vec::new();
    let mut last = 0;
    for (n, line) in prose_lines(md) {
        let blank = line.trim().is_empty();
        let is_heading = heading(line).is_some();
        let continues = n == last + 1 && !blank && !is_heading;
        match out.last_mut() {
            Some((_, p)) if continues && heading(p).is_none() => {
                p.push('\n');
                p.push_str(line);
            }
            _ if !blank => out.push((n, line.to_string())),
            _ => {}
        }
        last = if blank { 0 } else { n };
    }
    out
}

/// Splits a paragraph into its text outside code spans (each span replaced
/// by its line breaks, so that line numbers hold) and its code spans (line
/// breaks inside a span read as spaces). An unmatched backtick is text.
fn split_code(par: &str) -> (String, Vec<String>) {
    let parts: Vec<&str> = par.split('`').collect();
    let closed = if parts.len().is_multiple_of(2) {
        parts.len() - 1
    } else {
        parts.len()
    };
    let mut text = String::new();
    let mut spans = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 && i < closed {
            spans.push(part.replace('\n', " "));
            text.push_str(&"\n".repeat(part.matches('\n').count()));
        } else {
            if i >= closed {
                text.push('`');
            }
            text.push_str(part);
        }
    }
    (text, spans)
}

/// The inline code spans of `md` outside fenced blocks (`a` in `` `a` ``).
fn inline_code(md: &str) -> Vec<String> {
    paragraphs(md)
        .iter()
        .flat_map(|(_, p)| split_code(p).1)
        .collect()
}

/// The link targets of `md` outside code, with their line numbers: `x` in
/// `[text](x)` and `![alt](x)`.
fn links(md: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (first, par) in paragraphs(md) {
        let (text, _) = split_code(&par);
        let mut from = 0;
        while let Some(i) = text[from..].find("](") {
            let at = from + i + 2;
            let end = text[at..].find(')').map_or(text.len(), |e| at + e);
            let line = first + text[..at].matches('\n').count();
            out.push((line, text[at..end].trim().to_string()));
            from = end;
        }
    }
    out
}

/// The anchor of a heading, as mdBook and GitHub make it: lower case,
/// letters, digits, `-` and `_` kept, spaces to `-`, the rest dropped.
fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_lowercase().next().unwrap())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The anchors of every heading of `md` (a repeated one gets `-1`, `-2`, ...).
fn anchors(md: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = BTreeSet::new();
    for (_, line) in prose_lines(md) {
        if let Some((_, text)) = heading(line) {
            let id = slug(text);
            let n = seen.entry(id.clone()).or_insert(0);
            out.insert(if *n == 0 {
                id.clone()
            } else {
                format!("{id}-{n}")
            });
            *n += 1;
        }
    }
    out
}

/// `a/./b/../c` to `a/c`, without touching the file system.
fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            c => out.push(c.as_os_str()),
        }
    }
    out
}

/// Checks the relative links of one Markdown file; returns the problems.
/// `within`, if given, is the folder every link must stay inside.
fn check_links(file: &Path, within: Option<&Path>) -> Vec<String> {
    let md = read(file);
    let dir = file.parent().unwrap();
    let shown = file.strip_prefix(root()).unwrap_or(file).display();
    let mut bad = Vec::new();
    for (line, target) in links(&md) {
        if target.contains("://") || target.starts_with("mailto:") {
            continue;
        }
        let (path, anchor) = match target.split_once('#') {
            Some((p, a)) => (p, Some(a)),
            None => (target.as_str(), None),
        };
        let dest = if path.is_empty() {
            file.to_path_buf()
        } else {
            normalise(&dir.join(path))
        };
        let dest_shown = dest.strip_prefix(root()).unwrap_or(&dest).display();
        if !dest.exists() {
            bad.push(format!(
                "{shown}:{line}: ({target}): {dest_shown} does not exist"
            ));
            continue;
        }
        if let Some(w) = within
            && !dest.starts_with(w)
        {
            bad.push(format!(
                "{shown}:{line}: ({target}): outside {} (the built book would not have it)",
                w.display()
            ));
        }
        if let Some(a) = anchor
            && dest.extension().is_some_and(|e| e == "md")
            && !anchors(&read(&dest)).contains(a)
        {
            bad.push(format!(
                "{shown}:{line}: ({target}): no heading with the anchor #{a} in {dest_shown}"
            ));
        }
    }
    bad
}

// ---------------------------------------------------------------------------
// The tutorial runs.

/// Splits a command line into words: whitespace separates, '...' and "..."
/// quote. Enough for the commands the documents show.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                any = false;
            }
            (None, c) => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The `coldsim ...` commands of the `sh` blocks of `md` (continuation
/// lines joined, comments dropped).
fn coldsim_commands(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (lang, body) in code_blocks(md) {
        if lang != "sh" {
            continue;
        }
        let joined = body.replace("\\\n", " ");
        for line in joined.lines() {
            let line = line.split(" #").next().unwrap().trim();
            if line.starts_with("coldsim ") || line == "coldsim" {
                out.push(line.to_string());
            }
        }
    }
    out
}

/// The tutorial section of README.md.
fn readme_tutorial() -> String {
    let readme = read(&root().join("README.md"));
    section(&readme, |level, text| {
        level == 2 && text.to_lowercase().contains("tutorial")
    })
    .expect("README.md has a level-2 heading with \"tutorial\" in it")
}

/// Rewrites an `--out` value into `tmp` (an absolute one too).
fn into_tmp(tmp: &Path, out: &str) -> PathBuf {
    let rel: PathBuf = Path::new(out)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .collect();
    tmp.join(rel)
}

#[test]
fn readme_tutorial_commands_run_and_show_their_real_output() {
    let tutorial = readme_tutorial();
    let commands = coldsim_commands(&tutorial);
    assert!(
        commands.len() >= 2,
        "README's tutorial should run a scenario and report it; found the commands {commands:?}"
    );

    let tmp = tempfile::tempdir().unwrap();
    // Every --out folder of the tutorial: as written -> where it went.
    let mut outs: Vec<(String, PathBuf)> = Vec::new();
    let mut stdout_lines: BTreeSet<String> = BTreeSet::new();
    for cmd in &commands {
        let argv = words(cmd);
        let mut args: Vec<String> = Vec::new();
        let mut i = 1;
        while i < argv.len() {
            let a = &argv[i];
            if a == "--out" && i + 1 < argv.len() {
                let dest = into_tmp(tmp.path(), &argv[i + 1]);
                outs.push((argv[i + 1].trim_end_matches('/').to_string(), dest.clone()));
                args.push(a.clone());
                args.push(dest.display().to_string());
                i += 2;
                continue;
            }
            let earlier = outs.iter().find_map(|(w, d)| {
                let a = a.trim_end_matches('/');
                (a == w)
                    .then(|| d.clone())
                    .or_else(|| a.strip_prefix(&format!("{w}/")).map(|r| d.join(r)))
            });
            if let Some(d) = earlier {
                args.push(d.display().to_string());
            } else if !a.starts_with('-') && root().join(a).exists() {
                args.push(root().join(a).display().to_string());
            } else {
                args.push(a.clone());
            }
            i += 1;
        }
        let o = Command::new(env!("CARGO_BIN_EXE_coldsim"))
            .args(&args)
            .current_dir(tmp.path())
            .output()
            .expect("run coldsim");
        assert!(
            o.status.success(),
            "README's tutorial command `{cmd}` (run as coldsim {args:?}) failed:\n{}",
            show(&o)
        );
        stdout_lines.extend(String::from_utf8_lossy(&o.stdout).lines().map(String::from));
    }

    // Every output the tutorial names under an --out folder exists.
    let mut named = 0;
    let mut missing = Vec::new();
    for code in inline_code(&tutorial) {
        for (w, d) in &outs {
            if let Some(rest) = code.strip_prefix(&format!("{w}/")) {
                named += 1;
                if !d.join(rest).exists() {
                    missing.push(code.clone());
                }
            }
        }
    }
    assert!(
        named > 0,
        "README's tutorial names no output file under its --out folders {outs:?}"
    );
    assert!(
        missing.is_empty(),
        "README's tutorial names outputs that its commands did not write: {missing:?}"
    );

    // The output shown is the real one: summary rows as printed (all but the
    // wall-time line), table rows as written in the report's report.md.
    let mut report_md = String::new();
    for (_, d) in &outs {
        let p = d.join("report/report.md");
        if p.exists() {
            report_md.push_str(&read(&p));
        }
    }
    let report_lines: BTreeSet<&str> = report_md.lines().collect();
    let book_tutorial = read(&root().join("docs/src/tutorial.md"));
    for (name, doc) in [
        ("README.md", &tutorial),
        ("docs/src/tutorial.md", &book_tutorial),
    ] {
        let mut wrong = Vec::new();
        for (lang, body) in code_blocks(doc) {
            if lang != "text" {
                continue;
            }
            for line in body.lines() {
                let printed_row =
                    line.starts_with("  ") && !line.trim_start().starts_with("events");
                if printed_row && !stdout_lines.contains(line) {
                    wrong.push(format!("not printed by the commands: {line:?}"));
                }
                if line.starts_with('|') && !report_lines.contains(line) {
                    wrong.push(format!("not in report.md: {line:?}"));
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "{name}: the tutorial's output differs from what the commands give now; \
             rerun them and copy their output:\n{}",
            wrong.join("\n")
        );
    }

    // The book's tutorial runs the same commands.
    assert_eq!(
        coldsim_commands(&book_tutorial),
        commands,
        "docs/src/tutorial.md and README's tutorial should show the same coldsim commands"
    );
}

#[test]
fn book_tutorial_shows_the_shipped_scenario() {
    // The scenario text the book shows is the file's, comments aside.
    let book = read(&root().join("docs/src/tutorial.md"));
    let file = read(&root().join("scenarios/tutorial-keepalive.toml"));
    let file_lines: Vec<&str> = file
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    let shown = code_blocks(&book)
        .into_iter()
        .find(|(lang, body)| lang == "toml" && body.contains("name = \"tutorial-keepalive\""))
        .expect("docs/src/tutorial.md shows scenarios/tutorial-keepalive.toml in a toml block")
        .1;
    let shown_lines: Vec<&str> = shown
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        shown_lines, file_lines,
        "docs/src/tutorial.md shows a scenario that differs from scenarios/tutorial-keepalive.toml"
    );
}

// ---------------------------------------------------------------------------
// Every scenario key is documented.

/// The book pages that document scenario keys.
const KEY_PAGES: &[&str] = &[
    "docs/src/reference/scenarios.md",
    "docs/src/reference/workloads.md",
    "docs/src/reference/policies.md",
    "docs/src/reference/snapshots.md",
    "docs/src/reference/faults.md",
    "docs/src/reference/sweeps.md",
];

/// `apps[0]` -> `apps`, `functions[api].exec` -> `functions.exec`.
fn strip_indices(path: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in path.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

#[derive(Default)]
struct Found {
    /// Key path -> the scenario files that have it.
    keys: BTreeMap<String, BTreeSet<String>>,
    /// `kind` and `dist` values -> (key path, files).
    values: BTreeMap<String, (String, BTreeSet<String>)>,
}

impl Found {
    fn key(&mut self, path: &str, file: &str) {
        self.keys
            .entry(path.to_string())
            .or_default()
            .insert(file.to_string());
    }

    fn walk(&mut self, prefix: &str, v: &toml::Value, file: &str) {
        let Some(t) = v.as_table() else {
            if let Some(a) = v.as_array() {
                for e in a {
                    self.walk(prefix, e, file);
                }
            }
            return;
        };
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if prefix == "sweep" && k != "replicates" {
                // A sweep key is a key path into the scenario, and its
                // values replace what is there: document them there.
                let target = strip_indices(k);
                self.key("sweep", file);
                self.key(&target, file);
                self.walk(&target, v, file);
                continue;
            }
            self.key(&path, file);
            if (k == "kind" || k == "dist")
                && let Some(s) = v.as_str()
            {
                self.values
                    .entry(s.to_string())
                    .or_insert_with(|| (path.clone(), BTreeSet::new()))
                    .1
                    .insert(file.to_string());
            }
            self.walk(&path, v, file);
        }
    }
}

/// Whether the pages document the key path `path`, given their inline code
/// spans and headings: as `leaf`, `leaf = ...`, `table.leaf` (any dotted
/// tail of the path), or `[table]` / `[[table]]`.
fn documented(path: &str, spans: &BTreeSet<String>) -> bool {
    let parts: Vec<&str> = path.split('.').collect();
    let leaf = parts[parts.len() - 1];
    (0..parts.len()).any(|i| {
        let tail = parts[i..].join(".");
        spans.contains(&tail)
            || spans.contains(&format!("[{tail}]"))
            || spans.contains(&format!("[[{tail}]]"))
    }) || spans.iter().any(|s| s.starts_with(&format!("{leaf} = ")))
}

#[test]
fn every_scenario_key_and_kind_is_documented() {
    let mut found = Found::default();
    let mut files: Vec<PathBuf> = fs::read_dir(root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for path in &files {
        let name = path.strip_prefix(root()).unwrap().display().to_string();
        let o = Command::new(env!("CARGO_BIN_EXE_coldsim"))
            .args(["check", &name])
            .current_dir(root())
            .output()
            .expect("run coldsim check");
        assert!(o.status.success(), "coldsim check {name}:\n{}", show(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        let v: toml::Value = toml::from_str(&text)
            .unwrap_or_else(|e| panic!("coldsim check {name} printed invalid TOML: {e}\n{text}"));
        found.walk("", &v, &name);
    }
    assert!(
        found.keys.len() > 50,
        "too few keys found: {:?}",
        found.keys
    );

    let mut pages = String::new();
    for p in KEY_PAGES {
        pages.push_str(&read(&root().join(p)));
        pages.push('\n');
    }
    let mut spans: BTreeSet<String> = inline_code(&pages)
        .into_iter()
        .map(|s| s.trim().to_string())
        .collect();
    for (_, line) in prose_lines(&pages) {
        if let Some((_, text)) = heading(line) {
            spans.insert(text.replace('`', "").trim().to_string());
        }
    }

    let missing_keys: Vec<String> = found
        .keys
        .iter()
        .filter(|(k, _)| !documented(k, &spans))
        .map(|(k, files)| {
            format!(
                "  {k}   (in {})",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    let missing_values: Vec<String> = found
        .values
        .iter()
        .filter(|(v, _)| !spans.iter().any(|s| s.contains(&format!("\"{v}\""))))
        .map(|(v, (key, files))| {
            format!(
                "  {key} = \"{v}\"   (in {})",
                files.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    assert!(
        missing_keys.is_empty() && missing_values.is_empty(),
        "`coldsim check` prints scenario keys or values that the book's reference pages \
         ({}) do not document (as `key`, `table.key`, `[table]`, or `\"value\"`):\n\
         keys:\n{}\nvalues:\n{}",
        KEY_PAGES.join(", "),
        missing_keys.join("\n"),
        missing_values.join("\n")
    );
}

// ---------------------------------------------------------------------------
// Links.

#[test]
fn readme_links_point_to_existing_files() {
    let readme = root().join("README.md");
    let n = links(&read(&readme)).len();
    assert!(
        n > 10,
        "README.md should link into the book; found {n} links"
    );
    let bad = check_links(&readme, None);
    assert!(
        bad.is_empty(),
        "broken links in README.md:\n{}",
        bad.join("\n")
    );
}

#[test]
fn book_links_point_to_existing_pages_and_headings() {
    let src = root().join("docs/src");
    let mut pages = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "md") {
                pages.push(p);
            }
        }
    }
    pages.sort();
    assert!(pages.len() > 10, "{pages:?}");
    let bad: Vec<String> = pages
        .iter()
        .flat_map(|p| check_links(p, Some(&src)))
        .collect();
    assert!(
        bad.is_empty(),
        "broken links in the book:\n{}",
        bad.join("\n")
    );
}

/// Every `kind` each decision accepts (from the code's own list) is named
/// in the book's policies chapter, so a new policy cannot go undocumented.
#[test]
fn every_policy_kind_is_in_the_book() {
    use coldsim::policy::eviction::EvictionCfg;
    use coldsim::policy::keepalive::KeepAliveCfg;
    use coldsim::policy::placement::PlacementCfg;
    let book = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/src/reference/policies.md"),
    )
    .unwrap();
    let mut missing = Vec::new();
    for (table, kinds) in [
        ("placement", PlacementCfg::KINDS),
        ("keepalive", KeepAliveCfg::KINDS),
        ("eviction", EvictionCfg::KINDS),
    ] {
        for k in kinds {
            if !book.contains(&format!("\"{k}\"")) && !book.contains(&format!("`{k}`")) {
                missing.push(format!("[{table}] kind = \"{k}\""));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/src/reference/policies.md does not name: {}",
        missing.join(", ")
    );
}
