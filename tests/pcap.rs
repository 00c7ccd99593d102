//! The pcap export, read back by tshark: what a trainer would open in Wireshark must decode as
//! real traffic. `.ci/run` installs tshark; elsewhere the test says it is skipped.

mod common;

use std::path::Path;
use std::process::Command;

fn have(cmd: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {cmd}")).output().is_ok_and(|o| o.status.success())
}

/// tshark's output for a display filter and fields on one file, one line per packet.
fn tshark(file: &Path, filter: &str, fields: &[&str]) -> Vec<String> {
    let mut c = Command::new("tshark");
    c.arg("-r").arg(file).arg("-Y").arg(filter);
    if !fields.is_empty() {
        c.args(["-T", "fields"]);
        for f in fields {
            c.args(["-e", f]);
        }
    }
    let out = c.output().expect("tshark runs");
    assert!(out.status.success(), "tshark failed on {}: {}", file.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().lines().map(str::to_string).collect()
}

fn run(scenario: &Path, out: &Path) -> serde_json::Value {
    let status = Command::new(env!("CARGO_BIN_EXE_nitrosim"))
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--pcap")
        .arg(out.join("pcap"))
        .arg("--quiet")
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

fn skip() -> bool {
    if have("tshark") {
        return false;
    }
    common::skip_or_fail("tshark not installed", "apt-get install tshark, as .ci/run does");
    true
}

#[test]
fn tshark_decodes_the_black_hole_trace() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let summary = run(Path::new("scenarios/pmtud-blackhole.ron"), dir.path());
    let pcap = |name: &str| dir.path().join("pcap").join(format!("{name}.pcap"));
    let variant =
        |name: &str| summary["variants"].as_array().unwrap().iter().find(|v| v["name"] == name).unwrap().clone();
    for f in std::fs::read_dir(dir.path().join("pcap")).unwrap() {
        let f = f.unwrap().path();
        assert!(
            tshark(&f, "_ws.malformed || _ws.expert.severity == error", &[]).is_empty(),
            "{} has malformed packets",
            f.display()
        );
    }
    // At the VPN: every ICMP "fragmentation needed" the model sent, with next-hop MTU 1500.
    let icmp = tshark(&pcap("icmp-allowed-vpn"), "icmp.type == 3 && icmp.code == 4", &["icmp.mtu"]);
    assert_eq!(icmp.len() as u64, variant("icmp-allowed")["ip"]["icmp_frag_needed_sent"].as_u64().unwrap());
    assert!(icmp.iter().all(|m| m == "1500"), "{icmp:?}");
    // At the client of the black hole: the same segment resent at each RTO, nothing new.
    let rtos = variant("icmp-blocked")["flows"][0]["rtos"].as_u64().unwrap();
    let rtx = tshark(&pcap("icmp-blocked-client"), "tcp.analysis.retransmission", &["tcp.seq", "tcp.len"]);
    // Each RTO resends it, and so does the one tail loss probe Linux sends before the first RTO.
    assert_eq!(rtx.len() as u64, rtos + 1, "{rtos} RTOs + 1 TLP");
    // The probe resends the last segment sent; every RTO the first unacknowledged one.
    assert!(rtx[0].ends_with("\t8949") && rtx[0] != "1\t8949", "{rtx:?}");
    assert!(rtx[1..].iter().all(|l| l == "1\t8949"), "{rtx:?}");
    // MSS clamping: the client offers 8961, the server sees 1460.
    let syn = "tcp.flags.syn == 1 && tcp.flags.ack == 0";
    assert_eq!(tshark(&pcap("mss-clamping-client"), syn, &["tcp.options.mss_val"]), ["8961"]);
    assert_eq!(tshark(&pcap("mss-clamping-server"), syn, &["tcp.options.mss_val"]), ["1460"]);
}

#[test]
fn tshark_reassembles_the_fragments() {
    if skip() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("frag.ron");
    std::fs::write(
        &scenario,
        r#"Scenario(
    name: "frag",
    duration: "20ms",
    fabric: (racks: 1, hosts_per_rack: 2, spines: 1),
    gateways: [(name: "fw", kind: Middlebox, mtu: 1500)],
    paths: [(between: ("a", "b"), via: ["fw"])],
    instances: [
        (name: "a", instance_type: "c6i.8xlarge"),
        (name: "b", instance_type: "c6i.8xlarge"),
    ],
    workloads: [Datagrams((name: "dg", from: "a", to: "b", size: "4000B", mean_interval: "1ms", count: 5))],
)"#,
    )
    .unwrap();
    // The results go to a folder of their own: nitrosim never replaces a folder holding other
    // files (here the scenario itself).
    let out = dir.path().join("out");
    run(&scenario, &out);
    let at_b = out.join("pcap").join("base-b.pcap");
    // Three fragments per datagram at the receiver: two with more-fragments set, and tshark
    // puts each datagram back together (4000 bytes of UDP payload).
    assert_eq!(tshark(&at_b, "ip.flags.mf == 1", &[]).len(), 10);
    let whole = tshark(&at_b, "udp", &["udp.length"]);
    assert_eq!(whole, vec!["4008"; 5]);
    // At the sender the datagram is still one 4028-byte packet.
    assert_eq!(tshark(&out.join("pcap").join("base-a.pcap"), "udp", &["ip.len"]), vec!["4028"; 5]);
}
