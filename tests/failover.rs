//! Service failover (issue #7): a secondary ENI moved to the standby, an Elastic IP remapped, a
//! DNS record changed with clients caching it for its TTL. The outages follow from the delays
//! and from each client's own timing (its phase, its backoff draws, its resolver cache).

mod common;
use common::*;
use nitrosim::ec2::failover::{DNS_PROPAGATION, EIP_REMAP, ENI_ATTACH, ENI_DETACH, ENI_MOVE};

const FAILOVER: &str = include_str!("../scenarios/eni-failover.ron");

#[test]
fn outages_follow_the_failover_mechanism() {
    let s = run_text("eni-failover.ron", FAILOVER, &[]);
    // The active instance fails at 2 s; failover is started at 5 s. Clients pause 100 ms between
    // requests and give up on a request or connection attempt after 1 s.
    let (fail, start, timeout, interval) = (2.0, 5.0, 1.0, 0.1);
    // Each outage with the longest backoff wait the client could have drawn before its last
    // attempt: full jitter over min(20 s, 100 ms x 2^n) after its n-th failure in a row.
    let outages = |name: &str| -> Vec<(f64, f64)> {
        let v = variant(&s, name);
        assert_conserved(v);
        // Packets to the failed instance, and stragglers reaching a connection already dropped.
        assert!(v.drops.keys().all(|r| ["instance_down", "no_socket"].contains(r)), "{name}: {:?}", v.drops);
        let window = |n: u64| (0.1 * 2f64.powi(n as i32)).min(20.0);
        v.workloads.service_clients.iter().map(|c| (c.outage_ms / 1e3, window(c.timeouts + c.resets))).collect()
    };
    // The address answers again at start + the drawn delay (inside its bounds); a client
    // notices at its first attempt after that: at worst the attempt under way times out, and the
    // client backs off once more. Its last success was at most one pause before the failure.
    let drawn = |name: &str| variant(&s, name).failovers[0].delay_s;
    for (name, bounds) in [("eni-move", ENI_MOVE), ("eip-remap", EIP_REMAP)] {
        let delay = drawn(name);
        assert!((bounds.min.as_secs_f64()..=bounds.max.as_secs_f64()).contains(&delay), "{name}: {delay} s");
        let back = start + delay;
        for (o, wait) in outages(name) {
            assert!(
                o >= back - fail - 0.001 && o <= back - fail + timeout + wait + interval + 0.05,
                "{name}: outage {o} s"
            );
        }
    }
    // DNS: the record changes after propagation (at most 60 s), and a client sees it only when
    // its cached answer (30 s; the first one partly used already) expires after that.
    let delay = drawn("dns-ttl");
    assert!((0.0..=DNS_PROPAGATION.max.as_secs_f64()).contains(&delay), "{delay}");
    let record = start + delay;
    for (o, wait) in outages("dns-ttl") {
        assert!(o > record - fail && o <= record - fail + 30.0 + timeout + wait + interval, "dns: outage {o} s");
    }
    let eni = outages("eni-move")[0].0;
    assert!(outages("dns-ttl")[0].0 > 2.0 * eni);
    // Each timeout dropped the connection: one more connection per timeout.
    for c in &variant(&s, "eni-move").workloads.service_clients {
        assert_eq!(c.connections, 1 + c.timeouts + c.resets);
    }
}

#[test]
fn a_connected_client_is_reset_by_the_standby_when_the_address_moves() {
    // The standby takes the address while a client still holds an established connection to
    // the failed instance (failover at once, long client timeout): its next retransmission
    // reaches the standby, which resets it, and the client reconnects at once.
    let s = run_text(
        "eni-failover.ron",
        FAILOVER,
        &[
            "workloads.api-clients.timeout=30s",
            r#"actions=[{"at": "2s", "action": {"FailInstance": {"instance": "active"}}}, {"at": "2s", "action": {"Failover": {"service": "api", "to": "standby"}}}]"#,
            r#"variants=[{"name": "eni"}]"#,
        ],
    );
    let v = &s.variants[0];
    for c in &v.workloads.service_clients {
        assert_eq!((c.resets, c.timeouts), (1, 0), "{c:?}");
        // Back after the ENI move, at the next RTO of the request in flight.
        let back = v.failovers[0].delay_s;
        // RTOs double from 200 ms: the first retransmission after `back` comes before 2 x back +
        // 0.2 s; after the reset the client backs off at most 200 ms (its first failure).
        assert!(c.outage_ms / 1e3 >= back && c.outage_ms / 1e3 < 2.0 * back + 0.5, "{c:?} back at {back}");
    }
    assert!(v.events.iter().any(|e| e.event == "reconnect" && e.detail.as_deref().unwrap().contains("reset")));
}

#[test]
fn failover_mistakes_are_errors() {
    let err = |sets: &[&str]| load_error("f.ron", FAILOVER, sets);
    // The service ENI must be a secondary one: the primary cannot be detached.
    let e = err(&[r#"instances.active.enis=[{"name": "eth0"}]"#]);
    assert!(e.contains("has only its primary"), "{e}");
    // A secondary ENI moves only within its AZ.
    let e = err(&["instances.standby.availability_zone=use1-az2"]);
    assert!(e.contains("same availability zone"), "{e}");
    // An Elastic IP may go anywhere.
    assert!(err(&["instances.standby.availability_zone=use1-az2", "services.api.address=ElasticIp"]).is_empty());
    let e = err(&["workloads.api-clients.service=apii"]);
    assert!(e.contains("unknown service") && e.contains("did you mean"), "{e}");
}

#[test]
fn detaching_then_attaching_the_eni_is_the_same_move_in_two_steps() {
    // Detach at 5 s (done 1-2 s later), attach at 7 s (done 1-2 s later): the address answers
    // again at 8-9 s, and while it is detached the clients' attempts go unanswered.
    let steps = r#"actions=[{"at": "2s", "action": {"FailInstance": {"instance": "active"}}}, {"at": "5s", "action": {"DetachEni": {"service": "api"}}}, {"at": "7s", "action": {"AttachEni": {"service": "api", "to": "standby"}}}]"#;
    let s = run_text("eni-failover.ron", FAILOVER, &[steps, r#"variants=[{"name": "steps"}]"#]);
    let v = &s.variants[0];
    assert_conserved(v);
    let (detach, attach) = (&v.failovers[0], &v.failovers[1]);
    assert_eq!((detach.mechanism, attach.mechanism), ("eni-detach", "eni-attach"));
    let b = |x: nitrosim::ec2::failover::DelayBounds| [x.min.as_secs_f64(), x.max.as_secs_f64()];
    assert_eq!((detach.bounds_s, attach.bounds_s), (Some(b(ENI_DETACH)), Some(b(ENI_ATTACH))));
    let back = 7.0 + attach.delay_s;
    for c in &v.workloads.service_clients {
        let o = c.outage_ms / 1e3;
        let wait = (0.1 * 2f64.powi((c.timeouts + c.resets) as i32)).min(20.0);
        assert!((back - 2.0 - 0.001..=back - 2.0 + 1.0 + wait + 0.15).contains(&o), "outage {o} s, back at {back}");
    }
    let failovers: Vec<_> = v.events.iter().filter(|e| e.event == "failover").collect();
    assert_eq!(failovers.len(), 2);
    assert!(failovers[0].detail.as_deref().unwrap().contains("nowhere (detached)"));
    // Only a secondary ENI detaches.
    let e = load_error("f.ron", FAILOVER, &["services.api.address=ElasticIp", steps]);
    assert!(e.contains("not on a secondary ENI"), "{e}");
}

#[test]
fn a_moved_eni_keeps_its_security_groups() {
    // The service ENI admits port 443 from the clients' group; the standby's own ENI admits
    // nothing. Moving the ENI brings its groups along; remapping an Elastic IP to the standby's
    // primary ENI meets the standby's group, which refuses every client.
    let groups = [
        r#"security_groups=[{"name": "client-sg"}, {"name": "svc-sg", "inbound": [{"protocol": "tcp", "ports": "443", "peer": "client-sg"}]}, {"name": "locked-sg"}]"#,
        r#"instances.active.enis=[{"name": "eth0"}, {"name": "service", "security_groups": ["svc-sg"]}]"#,
        r#"instances.standby.enis=[{"name": "eth0", "security_groups": ["locked-sg"]}]"#,
        r#"instances.client.enis=[{"name": "eth0", "security_groups": ["client-sg"]}]"#,
    ];
    let run = |variant: &str| {
        let mut sets: Vec<&str> = groups.to_vec();
        let v = format!(r#"variants=[{{"name": "{variant}"}}]"#);
        let address =
            if variant == "eip" { "services.api.address=ElasticIp" } else { "services.api.address=SecondaryEni" };
        sets.extend([address, v.as_str()]);
        run_text("eni-failover.ron", FAILOVER, &sets).variants.remove(0)
    };
    let eni = run("eni");
    // Back within the failover (at most 3 + 4 s) plus a client's attempt and backoff (at most
    // 1 + 20 s); the refused clients below never come back.
    assert!(
        eni.workloads.service_clients.iter().all(|c| c.outage_ms < 28_100.0),
        "{:?}",
        eni.workloads.service_clients
    );
    assert!(eni.filter_drops.is_empty(), "{:?}", eni.filter_drops);
    let eip = run("eip");
    assert!(eip.workloads.service_clients.iter().all(|c| c.outage_ms > 90_000.0));
    assert!(eip.filter_drops["security groups of standby (locked-sg) inbound: no rule allows it"] > 0);
}

#[test]
fn failover_delays_vary_per_seed_and_outages_per_client_with_means_inside_the_bounds() {
    // Eight seeds: each draws its own delays; each client has its own phase, backoff draws and
    // resolver cache, so clients see different outages in every variant, and so do seeds.
    let (fail, start, interval, timeout, cap) = (2.0, 5.0, 0.1, 1.0, 20.0);
    let (mut eni, mut eip, mut dns) = (Vec::new(), Vec::new(), Vec::new());
    let mut client_means: std::collections::BTreeMap<&str, Vec<f64>> = Default::default();
    let mut dns_outages = Vec::new();
    for seed in 1..=8 {
        let s = run_text("eni-failover.ron", FAILOVER, &[&format!("seed={seed}")]);
        eni.push(variant(&s, "eni-move").failovers[0].delay_s);
        eip.push(variant(&s, "eip-remap").failovers[0].delay_s);
        dns.push(variant(&s, "dns-ttl").failovers[0].delay_s);
        for name in ["eni-move", "eip-remap", "dns-ttl"] {
            let v = variant(&s, name);
            let o: Vec<f64> = v.workloads.service_clients.iter().map(|c| c.outage_ms).collect();
            // Clients' outages differ: each finds the moved address (or its expired cache) at
            // its own attempt.
            assert!(o.iter().any(|&x| (x - o[0]).abs() > 10.0), "seed {seed} {name}: {o:?}");
            let summary = &v.workloads.service_outages[0];
            assert_eq!(summary.clients, 3);
            let mean = o.iter().sum::<f64>() / 3.0;
            assert!((summary.outage_ms_mean - mean).abs() < 0.01, "{summary:?}");
            assert!(summary.outage_ms_min <= mean && mean <= summary.outage_ms_max);
            client_means.entry(name).or_default().push(mean / 1e3);
            if name == "dns-ttl" {
                dns_outages.push(o);
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let within = |v: &[f64], b: nitrosim::ec2::failover::DelayBounds| {
        let (lo, hi) = (b.min.as_secs_f64(), b.max.as_secs_f64());
        v.iter().all(|x| (lo..=hi).contains(x)) && (lo..=hi).contains(&mean(v))
    };
    assert!(within(&eni, ENI_MOVE), "{eni:?}");
    assert!(within(&eip, EIP_REMAP), "{eip:?}");
    // Route 53: "within 60 seconds" is an upper bound, never a constant.
    assert!(within(&dns, DNS_PROPAGATION), "{dns:?}");
    for v in [&eni, &eip, &dns] {
        assert!(v.iter().any(|&x| x != v[0]), "the same delay for every seed: {v:?}");
    }
    assert_ne!(dns_outages[0], dns_outages[1]);
    // Clients' mean outages inside what the bounds allow: no client is back before the address
    // (detection + the least delay), none later than the largest delay plus one pause, one
    // attempt and one capped backoff wait (+ a DNS TTL of 30 s).
    for (name, b, ttl) in
        [("eni-move", ENI_MOVE, 0.0), ("eip-remap", EIP_REMAP, 0.0), ("dns-ttl", DNS_PROPAGATION, 30.0)]
    {
        let lo = start - fail + b.min.as_secs_f64();
        let hi = start - fail + b.max.as_secs_f64() + ttl + interval + timeout + cap;
        let means = &client_means[name];
        assert!(means.iter().all(|m| (lo..=hi).contains(m)), "{name}: {means:?} outside {lo}..{hi}");
        assert!(means.iter().any(|&m| (m - means[0]).abs() > 0.01), "{name}: the same mean for every seed");
    }
}

#[test]
fn clients_retrying_without_backoff_stay_in_step() {
    // Why the backoff: clients that lose the service together and retry on their timeout alone
    // find the moved address at the same attempt, so every client sees the same outage (to
    // within their start phases, one pause).
    let s = run_text(
        "eni-failover.ron",
        FAILOVER,
        &["workloads.api-clients.backoff=Immediate", r#"variants=[{"name": "eni"}]"#],
    );
    let o: Vec<f64> = s.variants[0].workloads.service_clients.iter().map(|c| c.outage_ms).collect();
    assert!(o.iter().all(|&x| (x - o[0]).abs() < 100.0), "{o:?}");
    let backoff = run_text("eni-failover.ron", FAILOVER, &[r#"variants=[{"name": "eni"}]"#]);
    let b: Vec<f64> = backoff.variants[0].workloads.service_clients.iter().map(|c| c.outage_ms).collect();
    assert!(b.iter().any(|&x| (x - b[0]).abs() > 100.0), "{b:?}");
}

#[test]
fn a_backoff_cap_below_its_base_is_an_error() {
    let e = load_error(
        "f.ron",
        FAILOVER,
        &[r#"workloads.api-clients.backoff={"FullJitter": {"base": "1s", "cap": "100ms"}}"#],
    );
    assert!(e.contains("backoff cap") && e.contains("below its base"), "{e}");
}
