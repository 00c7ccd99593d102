//! Route tables: inline routes and `aws_route` resources, as the scenario's route tables.

use super::*;

/// The `route_tables` section.
/// Also the routes that let the internet reach public subnets (used when the internet is added).
pub(super) fn route_tables(cx: &mut Ctx, insts: &[Inst], subnet_rt: &BTreeMap<usize, usize>) -> (String, Vec<String>) {
    let eni_owner: BTreeMap<usize, String> = {
        let mut m = BTreeMap::new();
        for inst in insts {
            for e in &inst.enis {
                if let Some(&k) = cx
                    .by_base
                    .get(&strip_keys(&e.source))
                    .and_then(|v| v.iter().find(|&&k| cx.res[k].address == e.source))
                {
                    m.insert(k, inst.name.clone());
                }
            }
        }
        m
    };
    let target = |cx: &Ctx, k: usize, path: &[Seg]| -> Result<Option<String>, String> {
        let block = walk_map(cx.res[k].values, path);
        let has = |key: &str| block.and_then(|b| b.get(key)).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
        let sub = |key: &'static str| -> Vec<Seg<'static>> { vec![Seg::Key(key)] };
        for key in [
            "gateway_id",
            "nat_gateway_id",
            "transit_gateway_id",
            "network_interface_id",
            "instance_id",
            "vpn_gateway_id",
        ] {
            let mut p: Vec<Seg> = path.to_vec();
            p.extend(sub(key));
            let refs = cx.refs(k, &p);
            for t in refs {
                let tr = &cx.res[t];
                match tr.ty.as_str() {
                    "aws_internet_gateway" | "aws_nat_gateway" | "aws_ec2_transit_gateway" | "aws_vpn_connection" => {
                        return Ok(Some(tr.name.clone()));
                    }
                    "aws_instance" => return Ok(Some(tr.name.clone())),
                    "aws_network_interface" => {
                        if let Some(o) = eni_owner.get(&t) {
                            return Ok(Some(o.clone()));
                        }
                    }
                    _ => {}
                }
            }
            if has(key)
                && key == "gateway_id"
                && block.and_then(|b| b.get(key)).and_then(Value::as_str) == Some("local")
            {
                return Ok(None);
            }
            if has(key) || cx.is_unknown(k, &p) {
                return Err(format!("{key} unresolved"));
            }
        }
        Err("no target this importer models (peering, endpoints, egress-only gateways ...)".into())
    };
    let mut rt_text = String::new();
    let tables = of_type(cx, "aws_route_table");
    let mut internet_routes: Vec<String> = Vec::new();
    let mut extra_routes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for r in of_type(cx, "aws_route") {
        match cx.ref_of(r, &[Seg::Key("route_table_id")], "aws_route_table") {
            Some(t) => extra_routes.entry(t).or_default().push(r),
            None => cx.notes.push(format!("{}: route table unresolved, route not modelled", cx.res[r].address)),
        }
    }
    for &t in &tables {
        let _ = writeln!(rt_text, "        // {}", comment(&cx.res[t].address));
        let mut lines = Vec::new();
        let inline = get_arr(cx.res[t].values, "route").len();
        let mut items: Vec<(usize, Vec<Seg>, String)> = (0..inline)
            .map(|p| (t, vec![Seg::Key("route"), Seg::At(p)], format!("{} route {p}", cx.res[t].address)))
            .collect();
        for &r in extra_routes.get(&t).into_iter().flatten() {
            items.push((r, vec![], cx.res[r].address.clone()));
        }
        let mut igw_default = false;
        for (k, path, what) in items {
            let dst_key = if path.is_empty() { "destination_cidr_block" } else { "cidr_block" };
            let dst = if path.is_empty() {
                get_str(cx.res[k].values, dst_key).map(str::to_string)
            } else {
                walk_map(cx.res[k].values, &path)
                    .and_then(|b| b.get(dst_key))
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            let Some(dst) = dst else {
                lines.push(format!(
                    "            // {}: no IPv4 destination (IPv6 or prefix list): not modelled",
                    comment(&what)
                ));
                continue;
            };
            match target(cx, k, &path) {
                Ok(Some(tg)) => {
                    if dst == "0.0.0.0/0" && of_type(cx, "aws_internet_gateway").iter().any(|&g| cx.res[g].name == tg) {
                        igw_default = true;
                    }
                    lines.push(format!("            // {}", comment(&what)));
                    lines.push(format!("            (destination: {}, target: {}),", ron_str(&dst), ron_str(&tg)));
                }
                Ok(None) => {}
                Err(why) => {
                    lines.push(format!("            // {}: {} -> {}: not modelled", comment(&what), dst, comment(&why)))
                }
            }
        }
        if igw_default {
            for (&s, &rt) in subnet_rt {
                if rt == t
                    && let Some(c) = get_str(cx.res[s].values, "cidr_block")
                {
                    let igw = of_type(cx, "aws_internet_gateway")[0];
                    internet_routes.push(format!(
                        "            (destination: {}, target: {}),",
                        ron_str(c),
                        ron_str(&cx.res[igw].name)
                    ));
                }
            }
        }
        let _ = writeln!(rt_text, "        (name: {}, routes: [", ron_str(&cx.res[t].name));
        for l in lines {
            let _ = writeln!(rt_text, "{l}");
        }
        let _ = writeln!(rt_text, "        ]),");
    }
    (rt_text, internet_routes)
}
