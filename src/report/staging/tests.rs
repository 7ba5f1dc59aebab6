//! Unit tests of staging.

use super::*;

/// A PID that no process has: a child that has exited and was reaped.
fn dead_pid() -> u32 {
    let mut c = std::process::Command::new("true").spawn().unwrap();
    let pid = c.id();
    c.wait().unwrap();
    pid
}

fn marked(dir: &Path, kind: Kind, extra: &str) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(MARKER), marker_text(kind)).unwrap();
    fs::write(dir.join("manifest.json"), extra).unwrap();
}

#[test]
fn staged_names_parse() {
    assert_eq!(
        parse_staged_name(".my.run.partial-123"),
        Some(("my.run", "partial", 123))
    );
    assert_eq!(parse_staged_name(".x.old-7"), Some(("x", "old", 7)));
    assert_eq!(parse_staged_name(".x.old-"), None);
    assert_eq!(parse_staged_name("x.old-7"), None);
    assert_eq!(parse_staged_name(".x.old-7a"), None);
}

#[test]
fn owners() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    fs::create_dir(p.join("empty")).unwrap();
    assert_eq!(owner(&p.join("empty")), Some(Owner::Empty));
    marked(&p.join("m"), Kind::Plan, "{}");
    assert_eq!(owner(&p.join("m")), Some(Owner::Marked(Some(Kind::Plan))));
    fs::create_dir(p.join("legacy")).unwrap();
    fs::write(
        p.join("legacy/manifest.json"),
        r#"{"coldsim_version":"0.1.0","git_commit":"x","command":[],"scenario_sha256":"y"}"#,
    )
    .unwrap();
    assert_eq!(owner(&p.join("legacy")), Some(Owner::LegacyResults));
    fs::create_dir(p.join("fake")).unwrap();
    fs::write(p.join("fake/manifest.json"), "{}").unwrap();
    assert_eq!(owner(&p.join("fake")), None);
    fs::create_dir_all(p.join("rep/plots")).unwrap();
    fs::write(p.join("rep/report.html"), "<html>").unwrap();
    fs::write(p.join("rep/plots/a.svg"), "<svg>").unwrap();
    assert_eq!(owner(&p.join("rep")), Some(Owner::LegacyReport));
    fs::write(p.join("rep/plots/notes.txt"), "mine").unwrap();
    assert_eq!(owner(&p.join("rep")), None);
    fs::write(p.join("file"), "x").unwrap();
    assert_eq!(owner(&p.join("file")), None);
    std::os::unix::fs::symlink(p.join("m"), p.join("link")).unwrap();
    assert_eq!(owner(&p.join("link")), None);
}

#[test]
fn recovery_of_interrupted_swaps() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path();
    let pid = dead_pid();
    // The kill fell between the two renames: no dest, old aside.
    marked(&p.join(format!(".a.old-{pid}")), Kind::Run, "old a");
    // The kill fell after the new folder was in: both.
    marked(&p.join("b"), Kind::Run, "new b");
    marked(&p.join(format!(".b.old-{pid}")), Kind::Run, "old b");
    // A partial folder and a temporary file of a killed process.
    marked(&p.join(format!(".c.partial-{pid}")), Kind::Run, "");
    fs::write(
        p.join(format!(".prof.toml.tmp-{pid}")),
        "# coldsim calibration",
    )
    .unwrap();
    // Not coldsim's, or of a running process: left alone.
    fs::create_dir(p.join(format!(".d.partial-{pid}"))).unwrap();
    fs::write(p.join(format!(".d.partial-{pid}/mine.txt")), "x").unwrap();
    fs::write(p.join(format!(".e.tmp-{pid}")), "user text").unwrap();
    // PID 1 always runs.
    marked(&p.join(".f.partial-1"), Kind::Run, "");
    // Staged on another machine sharing the folder: its PID means
    // nothing here.
    let far = p.join(format!(".g.partial-{pid}"));
    fs::create_dir(&far).unwrap();
    fs::write(
        far.join(MARKER),
        format!(
            "{MARKER_LINE}, version 0.1.0\nkind: run\nhost: elsewhere-{}\n",
            this_host()
        ),
    )
    .unwrap();
    let done = recover(p);
    assert_eq!(done.len(), 4, "{done:?}");
    assert_eq!(
        fs::read_to_string(p.join("a/manifest.json")).unwrap(),
        "old a"
    );
    assert_eq!(
        fs::read_to_string(p.join("b/manifest.json")).unwrap(),
        "new b"
    );
    let mut left: Vec<String> = fs::read_dir(p)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            ".d.partial-".to_string() + &pid.to_string(),
            format!(".e.tmp-{pid}"),
            ".f.partial-1".into(),
            format!(".g.partial-{pid}"),
            "a".into(),
            "b".into()
        ]
    );
}

#[test]
fn paths_resolve_dot_dot_and_links() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().canonicalize().unwrap();
    fs::create_dir_all(root.join("x/y")).unwrap();
    assert_eq!(resolve(&root.join("x/y/..")).unwrap(), root.join("x"));
    assert_eq!(resolve(&root.join("x/./new/..")).unwrap(), root.join("x"));
    std::os::unix::fs::symlink(root.join("x/y"), root.join("l")).unwrap();
    // `l/..` is the parent of the link's target, as the system sees it.
    assert_eq!(resolve(&root.join("l/..")).unwrap(), root.join("x"));
}
