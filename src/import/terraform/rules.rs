//! VPC rules: network ACLs and security groups, with the rules Terraform attaches to them inline
//! or as resources of their own.

use super::*;

/// The `network_acls` section: each ACL with its numbered rules, inbound and outbound.
pub(super) fn network_acls(cx: &mut Ctx) -> String {
    let mut acl_text = String::new();
    let mut acl_rules: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for r in of_type(cx, "aws_network_acl_rule") {
        match cx.ref_of(r, &[Seg::Key("network_acl_id")], "aws_network_acl") {
            Some(a) => acl_rules.entry(a).or_default().push(r),
            None => cx.notes.push(format!("{}: network ACL unresolved, rule not modelled", cx.res[r].address)),
        }
    }
    for a in of_type(cx, "aws_network_acl") {
        let r = &cx.res[a];
        let mut dirs: [Vec<(i64, String)>; 2] = [Vec::new(), Vec::new()];
        let rule = |v: &Map<String, Value>, num_key: &str, act_key: &str, src: &str| -> Option<(i64, String)> {
            let n = get_i64(v, num_key)?;
            let proto = protocol(get_str(v, "protocol").unwrap_or("-1"));
            let (from, to) = (get_i64(v, "from_port"), get_i64(v, "to_port"));
            let cidr = get_str(v, "cidr_block")?;
            let action = get_str(v, act_key).unwrap_or("deny").to_ascii_lowercase();
            let mut t = format!("(rule: {n}, protocol: {}", ron_str(&proto));
            if let Some(p) = ports(&proto, from, to) {
                let _ = write!(t, ", ports: {}", ron_str(&p));
            }
            let it = get_i64(v, "icmp_type");
            let ic = get_i64(v, "icmp_code");
            t += &icmp(&proto, it, ic);
            let _ = write!(t, ", cidr: {}, action: {}), // {}", ron_str(cidr), ron_str(&action), comment(src));
            Some((n, t))
        };
        for (d, key) in [(0, "ingress"), (1, "egress")] {
            for b in get_arr(r.values, key).iter().filter_map(Value::as_object) {
                if let Some(x) = rule(b, "rule_no", "action", &format!("{} {key}", r.address)) {
                    dirs[d].push(x);
                }
            }
        }
        for &k in acl_rules.get(&a).into_iter().flatten() {
            let v = cx.res[k].values;
            let d = get_bool(v, "egress").unwrap_or(false) as usize;
            match rule(v, "rule_number", "rule_action", &cx.res[k].address) {
                Some(x) => dirs[d].push(x),
                None => cx.notes.push(format!("{}: no rule number or IPv4 block, not modelled", cx.res[k].address)),
            }
        }
        let _ = writeln!(acl_text, "        // {}", comment(&r.address));
        let _ = writeln!(acl_text, "        (name: {},", ron_str(&r.name));
        for (d, key) in [(0, "inbound"), (1, "outbound")] {
            dirs[d].sort();
            let _ = writeln!(acl_text, "         {key}: [");
            for (_, t) in &dirs[d] {
                let _ = writeln!(acl_text, "             {t}");
            }
            let _ = writeln!(acl_text, "         ],");
        }
        let _ = writeln!(acl_text, "        ),");
    }
    acl_text
}

/// The `security_groups` section: each group with its ingress and egress rules.
pub(super) fn security_groups(cx: &mut Ctx) -> String {
    let sgs = of_type(cx, "aws_security_group");
    let mut sg_rules: BTreeMap<usize, [Vec<SgRule>; 2]> = BTreeMap::new();
    let mut sg_notes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let peer_rules = |cx: &Ctx,
                      k: usize,
                      v: &Map<String, Value>,
                      own: usize,
                      path: &[Seg],
                      kind: &str|
     -> (Vec<String>, Vec<String>) {
        // Returns rule texts and notes.
        let proto_raw = get_str(v, "protocol").or(get_str(v, "ip_protocol")).unwrap_or("-1");
        let proto = protocol(proto_raw);
        let (from, to) = (get_i64(v, "from_port"), get_i64(v, "to_port"));
        let mut head = format!("(protocol: {}", ron_str(&proto));
        if let Some(p) = ports(&proto, from, to) {
            let _ = write!(head, ", ports: {}", ron_str(&p));
        }
        head += &icmp(&proto, from, to);
        let mut peers: Vec<String> = Vec::new();
        let mut notes = Vec::new();
        for c in get_arr(v, "cidr_blocks").iter().filter_map(Value::as_str) {
            peers.push(c.to_string());
        }
        if let Some(c) = get_str(v, "cidr_ipv4") {
            peers.push(c.to_string());
        }
        if get_bool(v, "self") == Some(true) {
            peers.push(cx.res[own].name.clone());
        }
        let mut p: Vec<Seg> = path.to_vec();
        for key in ["security_groups", "source_security_group_id", "referenced_security_group_id"] {
            p.truncate(path.len());
            p.push(Seg::Key(key));
            for g in cx.refs(k, &p) {
                if cx.res[g].ty == "aws_security_group" {
                    peers.push(cx.res[g].name.clone());
                }
            }
        }
        if !get_arr(v, "ipv6_cidr_blocks").is_empty() || get_str(v, "cidr_ipv6").is_some() {
            notes.push(format!("{kind}: IPv6 peers not modelled"));
        }
        if !get_arr(v, "prefix_list_ids").is_empty() || get_str(v, "prefix_list_id").is_some() {
            notes.push(format!("{kind}: prefix-list peers not modelled"));
        }
        if peers.is_empty() {
            notes.push(format!("{kind}: no peer this importer resolves, rule not modelled"));
        }
        let rules = peers.iter().map(|pe| format!("{head}, peer: {}),", ron_str(pe))).collect();
        (rules, notes)
    };
    for &g in &sgs {
        let r = &cx.res[g];
        let mut dirs: [Vec<SgRule>; 2] = [Vec::new(), Vec::new()];
        let mut notes = Vec::new();
        for (d, key) in [(0, "ingress"), (1, "egress")] {
            for (p, b) in get_arr(r.values, key).iter().enumerate() {
                let Some(bv) = b.as_object() else { continue };
                let src = format!("{} {key}[{p}]", r.address);
                let (rules, n) = peer_rules(cx, g, bv, g, &[Seg::Key(key), Seg::At(p)], &src);
                notes.extend(n);
                dirs[d].extend(rules.into_iter().map(|text| SgRule { source: src.clone(), text }));
            }
        }
        sg_rules.insert(g, dirs);
        sg_notes.insert(g, notes);
    }
    let rule_types =
        ["aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"];
    for k in 0..cx.res.len() {
        if !rule_types.contains(&cx.res[k].ty.as_str()) {
            continue;
        }
        let v = cx.res[k].values;
        let Some(g) = cx.ref_of(k, &[Seg::Key("security_group_id")], "aws_security_group") else {
            cx.notes.push(format!("{}: security group unresolved, rule not modelled", cx.res[k].address));
            continue;
        };
        let d = match cx.res[k].ty.as_str() {
            "aws_vpc_security_group_ingress_rule" => 0,
            "aws_vpc_security_group_egress_rule" => 1,
            _ => (get_str(v, "type") == Some("egress")) as usize,
        };
        let src = cx.res[k].address.clone();
        let (rules, n) = peer_rules(cx, k, v, g, &[], &src);
        sg_notes.entry(g).or_default().extend(n);
        sg_rules.entry(g).or_default()[d].extend(rules.into_iter().map(|text| SgRule { source: src.clone(), text }));
    }
    let mut sg_text = String::new();
    for &g in &sgs {
        let r = &cx.res[g];
        let dirs = sg_rules.remove(&g).unwrap_or_default();
        let _ = writeln!(sg_text, "        // {}", comment(&r.address));
        for n in sg_notes.remove(&g).unwrap_or_default() {
            let _ = writeln!(sg_text, "        // {}", comment(&n));
        }
        // All traffic to and from itself both ways: what EFA needs, said the way the schema says it.
        let own = ron_str(&r.name);
        let self_all = format!("(protocol: \"all\", peer: {own}),");
        let efa_style = dirs.iter().all(|d| d.iter().any(|x| x.text == self_all));
        let _ = writeln!(sg_text, "        (name: {own},");
        if efa_style {
            let _ = writeln!(sg_text, "         allow_all_within_group: true,");
        }
        for (d, key) in [(0, "inbound"), (1, "outbound")] {
            if d == 1 {
                let _ = writeln!(
                    sg_text,
                    "         // Terraform removes AWS's default allow-all egress rule: only these are allowed out."
                );
            }
            let _ = writeln!(sg_text, "         {key}: [");
            for x in &dirs[d] {
                if efa_style && x.text == self_all {
                    continue;
                }
                let _ = writeln!(sg_text, "             {} // {}", x.text, comment(&x.source));
            }
            let _ = writeln!(sg_text, "         ],");
        }
        let _ = writeln!(sg_text, "        ),");
    }
    sg_text
}
