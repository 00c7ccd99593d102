//! ENIs and instances: attached interfaces, Auto Scaling fleets, and what an instance type
//! cannot do; and their scenario text.

use super::*;

/// Every instance (and fleet) with its interfaces.
pub(super) fn instances(cx: &mut Ctx, subnets: &[usize], subnet_az: &BTreeMap<usize, String>) -> Vec<Inst> {
    let enis = of_type(cx, "aws_network_interface");
    let eni_of = |cx: &Ctx, e: usize, device: usize| -> Eni {
        let r = &cx.res[e];
        let v = r.values;
        let srd = first_block(v, "ena_srd_specification");
        let srd_enabled = srd.and_then(|s| get_bool(s, "ena_srd_enabled")).unwrap_or(false);
        let srd_udp = srd
            .and_then(|s| first_block(s, "ena_srd_udp_specification"))
            .and_then(|u| get_bool(u, "ena_srd_udp_enabled"))
            .unwrap_or(false);
        let groups =
            cx.refs(e, &[Seg::Key("security_groups")]).into_iter().filter(|&g| cx.res[g].ty == "aws_security_group");
        let mut keys = Vec::new();
        if let Some(id) = get_str(v, "id") {
            keys.push(id.to_string());
        }
        for ip in get_str(v, "private_ip").into_iter().chain(get_arr(v, "private_ips").iter().filter_map(Value::as_str))
        {
            if !keys.iter().any(|k| k == ip) {
                keys.push(ip.to_string());
            }
        }
        Eni {
            name: format!("eth{device}"),
            source: r.address.clone(),
            mtu: mtu_tag(v).unwrap_or(DEFAULT_MTU),
            mtu_note: None,
            groups: groups.map(|g| cx.res[g].name.clone()).collect(),
            srd: srd_enabled,
            srd_udp,
            efa: get_str(v, "interface_type") == Some("efa"),
            source_dest_check: get_bool(v, "source_dest_check").unwrap_or(true),
            subnet: cx.ref_of(e, &[Seg::Key("subnet_id")], "aws_subnet").map(|s| cx.res[s].name.clone()),
            keys,
        }
    };
    // ENIs attached by an attachment resource or an instance's network_interface block.
    let mut attached: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new(); // instance -> (device, eni)
    let mut used_enis = BTreeSet::new();
    for a in of_type(cx, "aws_network_interface_attachment") {
        let (Some(i), Some(e)) = (
            cx.ref_of(a, &[Seg::Key("instance_id")], "aws_instance"),
            cx.ref_of(a, &[Seg::Key("network_interface_id")], "aws_network_interface"),
        ) else {
            cx.notes.push(format!("{}: instance or interface unresolved, not attached", cx.res[a].address));
            continue;
        };
        let dev = get_i64(cx.res[a].values, "device_index").unwrap_or(1).max(1) as usize;
        attached.entry(i).or_default().push((dev, e));
        used_enis.insert(e);
    }
    let instances = of_type(cx, "aws_instance");
    for &i in &instances {
        for (p, b) in get_arr(cx.res[i].values, "network_interface").iter().enumerate() {
            let dev = b.get("device_index").and_then(Value::as_i64).unwrap_or(p as i64) as usize;
            if let Some(e) = cx.ref_of(
                i,
                &[Seg::Key("network_interface"), Seg::At(p), Seg::Key("network_interface_id")],
                "aws_network_interface",
            ) {
                attached.entry(i).or_default().push((dev, e));
                used_enis.insert(e);
            }
        }
    }
    let pg_name = |cx: &Ctx, k: usize, path: &[Seg]| -> Option<String> {
        if let Some(p) = cx.ref_of(k, path, "aws_placement_group") {
            return Some(cx.res[p].name.clone());
        }
        let v = walk_map(cx.res[k].values, path)?.as_str()?;
        // Named by its `name` attribute.
        of_type(cx, "aws_placement_group")
            .into_iter()
            .find(|&p| get_str(cx.res[p].values, "name") == Some(v))
            .map(|p| cx.res[p].name.clone())
    };
    let mut insts: Vec<Inst> = Vec::new();
    let mut eip_notes: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for e in of_type(cx, "aws_eip") {
        let target = cx.ref_of(e, &[Seg::Key("instance")], "aws_instance").or_else(|| {
            cx.ref_of(e, &[Seg::Key("network_interface")], "aws_network_interface")
                .and_then(|n| attached.iter().find(|(_, v)| v.iter().any(|(_, x)| *x == n)).map(|(i, _)| *i))
        });
        let ip = get_str(cx.res[e].values, "public_ip").unwrap_or("(known after apply)");
        match target {
            Some(i) => eip_notes.entry(i).or_default().push(format!(
                "{}: Elastic IP {ip} (traffic to it reaches the ENI's private address; the public address is not modelled)",
                cx.res[e].address
            )),
            None => cx.notes.push(format!("{}: Elastic IP {ip}, on a NAT gateway or unassociated", cx.res[e].address)),
        }
    }
    let types_known = |t: &str| catalog::lookup(t).is_some();
    for &i in &instances {
        let r = &cx.res[i];
        let v = r.values;
        let mut notes = eip_notes.remove(&i).unwrap_or_default();
        let ty = match get_str(v, "instance_type") {
            Some(t) if types_known(t) => t.to_string(),
            Some(t) => {
                notes.push(format!(
                    "instance_type {t} is not in nitrosim's catalog: {FALLBACK_INSTANCE_TYPE} stands in"
                ));
                FALLBACK_INSTANCE_TYPE.into()
            }
            None => {
                notes.push(format!("instance_type unknown: {FALLBACK_INSTANCE_TYPE} assumed"));
                FALLBACK_INSTANCE_TYPE.into()
            }
        };
        // A known private address decides among the subnets a reference could mean (a counted
        // subnet referenced as `aws_subnet.s[count.index % 4]` shows up as `aws_subnet.s`).
        let by_address = get_str(v, "private_ip").and_then(|ip| crate::ec2::vpc::parse_ipv4(ip).ok()).and_then(|ip| {
            subnets.iter().copied().find(|&s| {
                get_str(cx.res[s].values, "cidr_block")
                    .and_then(|c| crate::ec2::vpc::Cidr::parse(c).ok())
                    .is_some_and(|c| c.contains(ip))
            })
        });
        let subnet_k = by_address.or_else(|| cx.ref_of(i, &[Seg::Key("subnet_id")], "aws_subnet"));
        let az = get_str(v, "availability_zone")
            .map(str::to_string)
            .or_else(|| subnet_k.and_then(|s| subnet_az.get(&s).cloned()))
            .unwrap_or_else(|| {
                notes.push(format!("availability zone unknown: {FALLBACK_AZ} assumed"));
                FALLBACK_AZ.into()
            });
        // Subnet AZ ids beat names when both are known, so instances and their subnets agree.
        let az = subnet_k.and_then(|s| subnet_az.get(&s).cloned()).unwrap_or(az);
        let pg = pg_name(cx, i, &[Seg::Key("placement_group")]);
        let mut list = attached.remove(&i).unwrap_or_default();
        list.sort();
        let primary_block = list.iter().position(|(d, _)| *d == 0);
        let mut enis_v = Vec::new();
        let groups: Vec<String> = cx
            .refs(i, &[Seg::Key("vpc_security_group_ids")])
            .into_iter()
            .chain(cx.refs(i, &[Seg::Key("security_groups")]))
            .filter(|&g| cx.res[g].ty == "aws_security_group")
            .map(|g| cx.res[g].name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut subnet = subnet_k.map(|s| cx.res[s].name.clone());
        if primary_block.is_none() {
            let mut keys = Vec::new();
            for k in ["primary_network_interface_id", "private_ip"] {
                if let Some(x) = get_str(v, k) {
                    keys.push(x.to_string());
                }
            }
            if cx.is_unknown(i, &[Seg::Key("private_ip")]) {
                notes.push(
                    "private_ip known after apply: flow logs can map it by interface id only once applied".into(),
                );
            }
            enis_v.push(Eni {
                name: "eth0".into(),
                source: r.address.clone(),
                mtu: mtu_tag(v).unwrap_or(DEFAULT_MTU),
                mtu_note: None,
                groups,
                srd: false,
                srd_udp: false,
                efa: false,
                source_dest_check: get_bool(v, "source_dest_check").unwrap_or(true),
                subnet: None,
                keys,
            });
        }
        for (dev, e) in list {
            let mut eni = eni_of(cx, e, dev);
            if let Some(m) = mtu_tag(v)
                && mtu_tag(cx.res[e].values).is_none()
            {
                eni.mtu = m;
            }
            if dev == 0 {
                subnet = subnet.or(eni.subnet.clone());
                enis_v.insert(0, eni);
            } else {
                enis_v.push(eni);
            }
        }
        // An instance placed by its primary ENI takes that subnet's zone.
        let az = match (get_str(v, "availability_zone"), subnet_k, subnet.as_ref()) {
            (None, None, Some(sn)) => {
                let zone = subnets.iter().find(|&&s| &cx.res[s].name == sn).and_then(|s| subnet_az.get(s).cloned());
                if zone.is_some() {
                    notes.retain(|n| !n.starts_with("availability zone unknown"));
                }
                zone.unwrap_or(az)
            }
            _ => az,
        };
        for e in &mut enis_v {
            if e.mtu == DEFAULT_MTU {
                e.mtu_note = Some("MTU not in Terraform: 9001 (EC2's VPC default; tag nitrosim:mtu to change)".into());
            }
        }
        insts.push(Inst {
            name: r.name.clone(),
            source: r.address.clone(),
            notes,
            ty,
            az,
            pg,
            subnet,
            count: None,
            enis: enis_v,
        });
    }
    for e in &enis {
        if !used_enis.contains(e) {
            cx.notes.push(format!("{}: not attached to any instance, not modelled", cx.res[*e].address));
        }
    }
    // Auto Scaling groups: a fleet of desired_capacity instances from the launch template.
    for g in of_type(cx, "aws_autoscaling_group") {
        let r = &cx.res[g];
        let v = r.values;
        let mut notes = Vec::new();
        let count = match get_i64(v, "desired_capacity").or(get_i64(v, "min_size")) {
            // Beyond u32 it is refused with the total (mod.rs), not wrapped.
            Some(n) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
            Some(_) => {
                cx.notes.push(format!("{}: desired_capacity 0, no instances", r.address));
                continue;
            }
            None => {
                notes.push("desired_capacity unknown: 1 assumed".into());
                1
            }
        };
        let lt = cx
            .ref_of(g, &[Seg::Key("launch_template"), Seg::At(0), Seg::Key("id")], "aws_launch_template")
            .or_else(|| {
                cx.ref_of(g, &[Seg::Key("launch_template"), Seg::At(0), Seg::Key("name")], "aws_launch_template")
            })
            .or_else(|| {
                let name = first_block(v, "launch_template").and_then(|b| get_str(b, "name"))?;
                of_type(cx, "aws_launch_template")
                    .into_iter()
                    .find(|&t| get_str(cx.res[t].values, "name") == Some(name))
            });
        let Some(lt) = lt else {
            cx.notes.push(format!("{}: launch template unresolved, not modelled", r.address));
            continue;
        };
        let lv = cx.res[lt].values;
        notes.push(format!("launch template {}", cx.res[lt].address));
        let ty = match get_str(lv, "instance_type") {
            Some(t) if types_known(t) => t.to_string(),
            other => {
                notes.push(format!(
                    "instance_type {} unknown to the catalog: {FALLBACK_INSTANCE_TYPE} stands in",
                    other.unwrap_or("(unset)")
                ));
                FALLBACK_INSTANCE_TYPE.into()
            }
        };
        let subnet_k = cx.ref_of(g, &[Seg::Key("vpc_zone_identifier")], "aws_subnet");
        if cx.refs(g, &[Seg::Key("vpc_zone_identifier")]).len() > 1 {
            notes.push("several subnets: the fleet is placed in the first".into());
        }
        let ni = first_block(lv, "network_interfaces");
        let groups: BTreeSet<String> = cx
            .refs(lt, &[Seg::Key("vpc_security_group_ids")])
            .into_iter()
            .chain(cx.refs(lt, &[Seg::Key("network_interfaces"), Seg::At(0), Seg::Key("security_groups")]))
            .filter(|&s| cx.res[s].ty == "aws_security_group")
            .map(|s| cx.res[s].name.clone())
            .collect();
        let srd = ni.and_then(|n| first_block(n, "ena_srd_specification"));
        let pg = pg_name(cx, lt, &[Seg::Key("placement"), Seg::At(0), Seg::Key("group_name")])
            .or_else(|| pg_name(cx, g, &[Seg::Key("placement_group")]));
        let az = subnet_k.and_then(|s| subnet_az.get(&s).cloned()).unwrap_or_else(|| FALLBACK_AZ.into());
        let mtu = mtu_tag(lv).unwrap_or(DEFAULT_MTU);
        insts.push(Inst {
            name: r.name.clone(),
            source: r.address.clone(),
            notes,
            ty,
            az,
            pg,
            subnet: subnet_k.map(|s| cx.res[s].name.clone()),
            count: Some(count),
            enis: vec![Eni {
                name: "eth0".into(),
                source: cx.res[lt].address.clone(),
                mtu,
                mtu_note: (mtu == DEFAULT_MTU).then(|| "MTU not in Terraform: 9001 (EC2's VPC default)".into()),
                groups: groups.into_iter().collect(),
                srd: srd.and_then(|s| get_bool(s, "ena_srd_enabled")).unwrap_or(false),
                srd_udp: srd
                    .and_then(|s| first_block(s, "ena_srd_udp_specification"))
                    .and_then(|u| get_bool(u, "ena_srd_udp_enabled"))
                    .unwrap_or(false),
                efa: ni.and_then(|n| get_str(n, "interface_type")) == Some("efa"),
                source_dest_check: true,
                subnet: None,
                keys: Vec::new(),
            }],
        });
    }
    // Instances in a subnet that was not declared (a plan of instances alone): no subnet.
    let subnet_names: BTreeSet<String> = subnets.iter().map(|&s| cx.res[s].name.clone()).collect();
    for i in &mut insts {
        if i.subnet.as_ref().is_some_and(|s| !subnet_names.contains(s)) {
            i.subnet = None;
        }
        if i.subnet.is_none() && !subnets.is_empty() {
            i.notes.push(format!("subnet unresolved: the first subnet ({}) assumed", cx.res[subnets[0]].name));
            i.subnet = Some(cx.res[subnets[0]].name.clone());
        }
    }

    // What the instance type cannot do, AWS would refuse at apply: said, and left off.
    for i in &mut insts {
        let Some(t) = catalog::lookup(&i.ty) else { continue };
        for e in &mut i.enis {
            if (e.srd || e.srd_udp) && !t.ena_express {
                e.srd = false;
                e.srd_udp = false;
                i.notes.push(format!(
                    "{}: {} does not support ENA Express: left off (AWS would refuse it)",
                    e.name, t.name
                ));
            }
            if e.efa && !t.efa {
                e.efa = false;
                i.notes.push(format!("{}: {} does not support EFA: an ordinary ENA interface", e.name, t.name));
            }
        }
    }
    insts
}

/// The scenario text of the instances (with their ENIs), and of the stand-in for the internet.
pub(super) fn instances_text(insts: &[Inst], internet: Option<&str>) -> String {
    let mut inst_text = String::new();
    for i in insts {
        let _ = writeln!(inst_text, "        // {}", comment(&i.source));
        for n in &i.notes {
            let _ = writeln!(inst_text, "        // {}", comment(n));
        }
        let mut head = format!(
            "        (name: {}, instance_type: {}, availability_zone: {}",
            ron_str(&i.name),
            ron_str(&i.ty),
            ron_str(&i.az)
        );
        if let Some(s) = &i.subnet {
            let _ = write!(head, ", subnet: {}", ron_str(s));
        }
        if let Some(p) = &i.pg {
            let _ = write!(head, ", placement_group: {}", ron_str(p));
        }
        if let Some(c) = i.count {
            let _ = write!(head, ", count: {c}");
        }
        let _ = writeln!(inst_text, "{head},");
        let _ = writeln!(inst_text, "         enis: [");
        for e in &i.enis {
            if e.source != i.source {
                let _ = writeln!(inst_text, "             // {}", comment(&e.source));
            }
            if let Some(n) = &e.mtu_note {
                let _ = writeln!(inst_text, "             // {}", comment(n));
            }
            if let Some(s) = &e.subnet
                && Some(s) != i.subnet.as_ref()
            {
                let _ = writeln!(
                    inst_text,
                    "             // in subnet {s} in AWS; nitrosim puts an instance's ENIs in one subnet"
                );
            }
            let mut t = format!("             (name: {}, mtu: {}", ron_str(&e.name), e.mtu);
            if !e.groups.is_empty() {
                let g: Vec<String> = e.groups.iter().map(|g| ron_str(g)).collect();
                let _ = write!(t, ", security_groups: [{}]", g.join(", "));
            }
            if e.srd {
                t += ", ena_srd_enabled: true";
            }
            if e.srd_udp {
                t += ", ena_srd_udp_enabled: true";
            }
            if e.efa {
                t += ", interface_type: \"efa\"";
            }
            if !e.source_dest_check {
                t += ", source_dest_check: false";
            }
            let _ = writeln!(inst_text, "{t}),");
        }
        let _ = writeln!(inst_text, "         ]),");
    }
    if let Some(name) = internet {
        let _ = writeln!(
            inst_text,
            "        // Not in Terraform: stands for every address outside the VPC (1500-byte MTU, as over the internet)."
        );
        let _ = writeln!(
            inst_text,
            "        (name: {}, instance_type: {}, subnet: {}, enis: [(name: \"eth0\", mtu: 1500)]),",
            ron_str(name),
            ron_str(FALLBACK_INSTANCE_TYPE),
            ron_str(name)
        );
    }
    inst_text
}
