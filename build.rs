//! Records the git commit coldsim is built from, for manifest.json, and
//! tells the tests whether optional tools are here.
//!
//! `coldsim_no_chromium` is set when no Chromium is found (`CHROMIUM`,
//! /usr/bin/chromium, /usr/bin/chromium-browser) and `CI` is not `true`: the
//! report test in headless Chromium then shows as ignored. Under `CI=true`
//! it is never set, so a missing Chromium fails that test.
use std::path::Path;
use std::process::Command;

fn main() {
    let out = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = match out(&["rev-parse", "HEAD"]) {
        Some(c) if !c.is_empty() => {
            let dirty = out(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty());
            if dirty { format!("{c}-dirty") } else { c }
        }
        _ => "unknown".to_string(),
    };
    println!("cargo:rustc-env=COLDSIM_GIT_COMMIT={commit}");
    for p in [".git/HEAD", ".git/index", ".git/refs/heads"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    println!("cargo::rustc-check-cfg=cfg(coldsim_no_chromium)");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=CHROMIUM");
    let chromium = std::env::var_os("CHROMIUM").is_some()
        || ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
            .iter()
            .any(|p| Path::new(p).is_file());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if !chromium && !ci {
        println!("cargo:rustc-cfg=coldsim_no_chromium");
        // Installing it adds a file to /usr/bin: look again then.
        println!("cargo:rerun-if-changed=/usr/bin");
    }
}
