//! The HTML report, ladder diagrams and the plots' reading rules: the ladder of the PMTUD black
//! hole tells the story in order, the page is self-contained, and a real browser (headless
//! Chromium) loads it without errors, draws every plot and shows the expected rows.

mod common;
use common::*;
use nitrosim::progress::Progress;
use nitrosim::report::ladder::{ArrowKind, Ladder};
use nitrosim::report::summary::Summary;
use nitrosim::report::{self, ReportContext};
use nitrosim::scenario;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bundled(name: &str) -> &'static str {
    scenario::BUNDLED.iter().find(|(n, _)| *n == name).unwrap().1
}

/// Run the named variants of a bundled scenario with the report's context, as `nitrosim run` does.
fn run_with_context(file: &str, only: &[&str]) -> Summary {
    let text = bundled(file);
    let variants: Vec<_> = scenario::load(file, text, &[], None)
        .unwrap_or_else(|d| panic!("{d}"))
        .into_iter()
        .filter(|v| only.is_empty() || only.contains(&v.name.as_str()))
        .collect();
    let results = nitrosim::run::run_variants(&variants, &Progress::new(1, false)).unwrap();
    Summary::new(&variants[0].spec.name, variants[0].spec.seed, results).with_context(ReportContext::new(
        file,
        text,
        &[],
        &variants,
    ))
}

fn icmp_blocked_ladder() -> Ladder {
    let s = run_with_context("pmtud-blackhole.ron", &["icmp-blocked"]);
    let mut ladders = report::ladders(&s);
    assert_eq!(ladders.len(), 1, "pmtud-blackhole asks for a ladder");
    ladders.remove(0)
}

/// The teaching story of the black hole, read off the diagram's data: the handshake passes, a
/// full-size DF segment dies at the VPN, the VPN's ICMP "fragmentation needed" dies at the
/// client's NACL, then the same segment is retransmitted on each RTO, the RTO doubling each time.
#[test]
fn pmtud_black_hole_ladder_shows_df_drop_then_icmp_blocked_then_rtos_doubling() {
    let l = icmp_blocked_ladder();
    assert_eq!(l.lifelines, ["client", "vpn", "server"]);
    let (client, vpn) = (0.0, 1.0);
    assert_eq!(l.arrows[0].kind, ArrowKind::Syn);
    assert_eq!(l.arrows[0].hops.iter().map(|h| h.0).collect::<Vec<_>>(), [0, 1, 2], "the SYN crosses the VPN");
    let df_drop = l
        .arrows
        .iter()
        .position(|a| {
            a.kind == ArrowKind::Data
                && a.df
                && a.wire_bytes > 1500
                && a.drop.as_ref().is_some_and(|d| d.lifeline == vpn && d.reason == "fragmentation_needed")
        })
        .expect("a DF segment dropped at the VPN");
    let icmp_blocked = l
        .arrows
        .iter()
        .position(|a| {
            a.kind == ArrowKind::IcmpFragNeeded
                && a.mtu == Some(1500)
                && a.hops[0].0 == 1
                && a.drop.as_ref().is_some_and(|d| {
                    d.lifeline == client
                        && d.reason == "network_acl"
                        && d.rule.as_deref().is_some_and(|r| r.contains("client-acl") && r.contains("inbound"))
                })
        })
        .expect("the VPN's ICMP refused by the client's network ACL");
    let first = &l.arrows[df_drop];
    assert!(l.arrows[icmp_blocked].hops[0].1 >= first.drop.as_ref().unwrap().time_us, "ICMP after the drop");
    // Not one full-size segment reaches the server.
    assert!(
        !l.arrows.iter().any(|a| a.kind == ArrowKind::Data && a.wire_bytes > 1500 && a.hops.iter().any(|h| h.0 == 2))
    );
    // RTOs: at least three in the window, after the ICMP, each followed by the retransmission of
    // the first segment (same sequence number), which dies at the VPN again.
    let rtos: Vec<_> = l.notes.iter().filter(|n| n.event == "rto").collect();
    assert!(rtos.len() >= 3, "RTOs in 4 s: {}", rtos.len());
    assert!(rtos[0].time_us > l.arrows[icmp_blocked].hops[0].1);
    for r in &rtos {
        let retx = l
            .arrows
            .iter()
            .find(|a| a.retransmit && a.seq == first.seq && (a.hops[0].1 - r.time_us).abs() < 1.0)
            .unwrap_or_else(|| panic!("no retransmission of seq {} at the RTO at {} us", first.seq, r.time_us));
        assert!(retx.drop.as_ref().is_some_and(|d| d.lifeline == vpn && d.reason == "fragmentation_needed"));
    }
    // Each wait is twice the one before (exponential backoff, RFC 6298 5.5), whatever the
    // initial RTO (Linux: 200 ms floor plus RTT variance).
    let waits: Vec<f64> = std::iter::once(rtos[0].time_us - first.hops[0].1)
        .chain(rtos.windows(2).map(|w| w[1].time_us - w[0].time_us))
        .collect();
    for w in waits.windows(2) {
        let ratio = w[1] / w[0];
        assert!((1.8..2.2).contains(&ratio), "RTO waits {waits:?} do not double");
    }
    assert!(waits[0] >= 200_000.0, "Linux's minimum RTO is 200 ms: first wait {} us", waits[0]);
}

/// The diagram's SVG, kept as text in tests/golden/ (diffable). Regenerate with
/// NITROSIM_UPDATE_GOLDEN=1 after an intended change and review the diff.
#[test]
fn pmtud_black_hole_ladder_svg_matches_its_golden() {
    let l = icmp_blocked_ladder();
    let svg = report::ladder::render_svg(&l);
    assert_svg_text_inside("ladder", &svg);
    assert!(svg.contains("<title>"), "packets carry hover text");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/pmtud-blackhole.icmp-blocked.ladder.svg");
    if std::env::var_os("NITROSIM_UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &svg).unwrap();
        return;
    }
    let kept = std::fs::read_to_string(&golden).unwrap_or_else(|e| panic!("{}: {e}", golden.display()));
    if kept != svg {
        let first = kept.lines().zip(svg.lines()).position(|(a, b)| a != b).unwrap_or(0);
        panic!(
            "ladder SVG differs from {} at line {}:\n  kept: {}\n  now:  {}",
            golden.display(),
            first + 1,
            kept.lines().nth(first).unwrap_or(""),
            svg.lines().nth(first).unwrap_or("")
        );
    }
    // The PNG is the same drawing.
    let png = report::ladder::render_png(&l).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}

/// The drops the ladder shows are the drops the run counted: one model, one set of records.
#[test]
fn ladder_drops_agree_with_the_run_counters() {
    let s = run_with_context("pmtud-blackhole.ron", &["icmp-blocked"]);
    let l = &report::ladders(&s)[0];
    let v = &s.variants[0];
    let shown = |reason: &str| l.arrows.iter().filter(|a| a.drop.as_ref().is_some_and(|d| d.reason == reason)).count();
    // The window (4 s) holds every drop of this variant's run before the next RTO at ~6.4 s.
    let before_4s = |reason: &str| {
        v.events.iter().filter(|e| e.event == "drop" && e.reason == Some(reason) && e.time_us <= 4e6).count()
    };
    assert_eq!(shown("fragmentation_needed"), before_4s("fragmentation_needed"));
    assert_eq!(shown("network_acl"), before_4s("network_acl"));
    assert!(shown("network_acl") > 0);
}

#[test]
fn ladder_is_validated() {
    let text = bundled("pmtud-blackhole.ron");
    let bad = text.replace("ladder: (flow: \"upload\"", "ladder: (flow: \"uplaod\"");
    let e = load_error("pmtud-blackhole.ron", &bad, &[]);
    assert!(e.contains("uplaod") && e.contains("upload"), "{e}");
    let bad = text.replace("from: \"0s\", to: \"4s\"", "from: \"4s\", to: \"1s\"");
    let e = load_error("pmtud-blackhole.ron", &bad, &[]);
    assert!(e.contains("ladder window"), "{e}");
    let bad = text.replace("max_packets: 200", "max_packets: 0");
    assert!(load_error("pmtud-blackhole.ron", &bad, &[]).contains("max_packets"));
}

/// A variant names what it is compared with; the table says so.
#[test]
fn variants_compare_with_their_baseline() {
    let text = bundled("ena-vs-express.ron");
    let e = load_error(
        "x.ron",
        &text.replacen("(name: \"ena-express-idle\"", "(name: \"ena-express-idle\", baseline: \"nope\"", 1),
        &[],
    );
    assert!(e.contains("nope"), "{e}");
    // Compare the text table's header against each variant's baseline with a tiny synthetic run.
    let small = r#"Scenario(
        name: "baselines", duration: "3ms",
        instances: [(name: "a", instance_type: "c6in.16xlarge"), (name: "b", instance_type: "c6in.16xlarge")],
        workloads: [Rpc((name: "rpc", client: "a", server: "b", arrival: ClosedLoop(outstanding: 1), request: Fixed("1KiB"), response: Fixed("1KiB"))),
                    Bulk((name: "bulk", from: "a", to: "b"))],
        variants: [(name: "one"), (name: "two", set: {"tcp.congestion": "NewReno"}),
                   (name: "three", baseline: "two", set: {"tcp.congestion": "NewReno"})],
    )"#;
    let variants = scenario::load("b.ron", small, &[], None).unwrap_or_else(|d| panic!("{d}"));
    let results = nitrosim::run::run_variants(&variants, &Progress::new(1, false)).unwrap();
    let s = Summary::new("baselines", 1, results).with_context(ReportContext::new("b.ron", small, &[], &variants));
    assert_eq!(s.baseline_of(0), 0);
    assert_eq!(s.baseline_of(1), 0);
    assert_eq!(s.baseline_of(2), 1);
    let table = nitrosim::report::table::render(&s);
    let row = table.lines().find(|l| l.trim_start().starts_with("three")).unwrap();
    assert!(row.contains("two"), "{row}");
    assert!(table.contains("bulk goodput (Gbps)"), "{table}");
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NITROSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|n| {
        let out = Command::new("sh").args(["-c", &format!("command -v {n}")]).output().ok()?;
        out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
    })
}

/// Chromium, headless and isolated: no network services, a fresh profile.
fn chromium_cmd(exe: &Path, profile: &Path) -> Command {
    let mut c = Command::new(exe);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1280,1800",
    ]);
    c.arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// A real browser opens report.html of a bundled scenario: no console message or script error,
/// every plot and ladder drawn with a size, the side-by-side table with one row per variant.
/// The screenshot is kept as a test artifact (its path is printed).
#[test]
fn report_html_renders_in_a_real_browser() {
    let Some(exe) = chromium() else {
        common::skip_or_fail("chromium not installed", "apt-get install chromium, as .ci/run does");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let st = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .args(["run", "--quiet", "--out"])
        .arg(&out)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pmtud-blackhole.ron"))
        .status()
        .unwrap();
    assert!(st.success());
    let page = out.join("report.html");
    let html = std::fs::read_to_string(&page).unwrap();
    // Self-contained: nothing to fetch.
    for needle in ["<script src", "<link", "@import", "src=\"http", "href=\"http", "url(http", "<img"] {
        assert!(!html.contains(needle), "report.html would fetch something: {needle}");
    }
    // Alone in a folder, it is the same page.
    let alone = tmp.path().join("alone");
    std::fs::create_dir(&alone).unwrap();
    std::fs::copy(&page, alone.join("report.html")).unwrap();
    let url = format!("file://{}", alone.join("report.html").display());
    let dom = chromium_cmd(&exe, &tmp.path().join("profile1")).arg("--dump-dom").arg(&url).output().unwrap();
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let stderr = String::from_utf8_lossy(&dom.stderr);
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains(":CONSOLE")).collect();
    assert!(console.is_empty(), "console messages: {console:#?}");
    let dom = String::from_utf8_lossy(&dom.stdout);
    let start = dom.find("<pre id=\"selfcheck\">").expect("the self-check element") + "<pre id=\"selfcheck\">".len();
    let json = dom[start..start + dom[start..].find("</pre>").unwrap()].replace("&amp;", "&");
    let check: serde_json::Value = serde_json::from_str(&json).unwrap_or_else(|e| panic!("self-check {json:?}: {e}"));
    assert_eq!(check["ok"], true, "script errors: {}", check["errors"]);
    let plots = check["plots"].as_array().unwrap();
    let ids: Vec<&str> = plots.iter().map(|p| p["id"].as_str().unwrap()).collect();
    for want in ["plot-throughput", "plot-timeline", "ladder-icmp-blocked", "ladder-icmp-allowed"] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    for p in plots {
        assert!(p["width"].as_f64().unwrap() > 100.0 && p["height"].as_f64().unwrap() > 100.0, "not drawn: {p}");
    }
    assert_eq!(check["tables"]["compare"], 4, "one row per variant: {}", check["tables"]);
    assert_eq!(check["tables"]["v1-rules"], 1, "icmp-blocked's refusing rule: {}", check["tables"]);
    // The screenshot, as an artifact.
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report-pmtud-blackhole.png");
    let _ = std::fs::remove_file(&shot);
    let s = chromium_cmd(&exe, &tmp.path().join("profile2"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    let png = std::fs::read(&shot).unwrap();
    assert!(png.len() > 10_000 && &png[1..4] == b"PNG", "screenshot {}", shot.display());
    eprintln!("screenshot: {}", shot.display());
}

/// The report of a run holds what the issue lists: description, check, scenario text with the
/// overrides, the side-by-side table, every plot inline, per-variant details.
#[test]
fn report_html_has_every_part() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .args(["run", "--set", "tcp.mtu_probing=1", "--out"])
        .arg(&out)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pmtud-blackhole.ron"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let stdout = String::from_utf8_lossy(&o.stdout);
    let last = stdout.lines().last().unwrap();
    assert_eq!(last, format!("report: {}", out.join("report.html").display()), "the run ends with the report's path");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    for part in [
        "Jumbo-frame client through a 1500-MTU VPN",
        "id=\"compare\"",
        "id=\"plot-timeline\"",
        "id=\"plot-throughput\"",
        "id=\"ladder-icmp-blocked\"",
        "Drops by reason",
        "fragmentation_needed",
        "nitrosim check",
        "path MTU",
        "--set tcp.mtu_probing=1",
        "mtu_probing: 1",
        "<title>",
    ] {
        assert!(html.contains(part), "report.html lacks {part:?}");
    }
    assert_eq!(html.matches("<svg").count(), 2 + 4, "two plots and four ladders, inline");
    for f in ["ladder-icmp-blocked.svg", "ladder-icmp-blocked.png"] {
        assert!(out.join(f).exists(), "{f}");
    }
}

/// `nitrosim list` keeps its columns aligned whatever a value's width (10 Gbps and more).
#[test]
fn list_columns_align() {
    let o = Command::new(env!("CARGO_BIN_EXE_nitrosim")).arg("list").output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = out.lines().skip_while(|l| !l.starts_with("Instance types")).skip(1).collect();
    assert!(rows.len() > 10);
    assert!(rows.iter().any(|r| r.contains(" 100 ")) && rows.iter().any(|r| r.contains(" 0.75 ")), "{out}");
    // Right-aligned columns: every row has the header's length, and each column ends where the header's does.
    let ends = |l: &str| -> Vec<usize> {
        let b = l.as_bytes();
        (1..b.len()).filter(|&i| b[i - 1] != b' ' && (i == b.len() || b[i] == b' ')).chain([b.len()]).collect()
    };
    let head_len = rows[0].len();
    for r in &rows {
        assert_eq!(r.len(), head_len, "row out of line:\n{}\n{r}", rows[0]);
        assert!(ends(rows[0]).iter().skip(1).all(|e| ends(r).contains(e)), "columns out of line:\n{}\n{r}", rows[0]);
    }
}

/// A run with nothing notable writes no (empty) event log; -0.0 never appears in a summary.
#[test]
fn no_empty_event_log_and_no_negative_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let st = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .args(["run", "--quiet", "--set", "duration=2ms", "--out"])
        .arg(&out)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/single-flow-cap.ron"))
        .status()
        .unwrap();
    assert!(st.success());
    assert!(!out.join("events.jsonl").exists(), "an empty events.jsonl");
    assert!(out.join("report.html").exists());
    let s = run_text("efa-allreduce.ron", bundled("efa-allreduce.ron"), &["duration=1ms"]);
    assert!(!json(&s).contains("-0.0"), "negative zero in the summary");
}

/// The loss-recovery ladder of single-flow-cap (lossy-fabric): the fabric drops segments,
/// SACKs report the holes, retransmissions reach the receiver.
#[test]
fn single_flow_cap_ladder_shows_sack_loss_recovery() {
    let s = run_with_context("single-flow-cap.ron", &["lossy-fabric"]);
    let l = &report::ladders(&s)[0];
    assert_eq!(l.lifelines, ["sender", "receiver"]);
    let dropped: Vec<u64> = l
        .arrows
        .iter()
        .filter(|a| a.kind == ArrowKind::Data && a.drop.as_ref().is_some_and(|d| d.reason == "injected_loss"))
        .map(|a| a.seq)
        .collect();
    assert!(!dropped.is_empty(), "the lossy fabric drops data segments in the window");
    // The holes are repaired by retransmissions that reach the receiver.
    let recovered = l.arrows.iter().filter(|a| a.retransmit && a.hops.last().unwrap().0 == 1).count();
    assert!(recovered > 0, "retransmissions reach the receiver");
    assert!(
        l.arrows.iter().any(|a| a.kind == ArrowKind::Ack && a.label.contains("SACK")),
        "SACK blocks report the holes"
    );
    assert!(!l.notes.iter().any(|n| n.event == "rto"), "recovered without a timeout");
}
