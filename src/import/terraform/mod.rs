//! `nitrosim import terraform PLAN_OR_STATE.json`: a VPC described by Terraform, as a scenario.
//!
//! The input is what `terraform show -json` prints, in its documented "JSON Output Format"
//! (<https://developer.hashicorp.com/terraform/internals/json-format>, read 2026-11): an object
//! with `format_version` (major version 1 is accepted; the document says to reject other majors),
//! and either `planned_values` (a plan) or `values` (a state), each with a `root_module` holding
//! `resources` (`address`, `mode`, `type`, `name`, `index`, `values`) and `child_modules` (each
//! with its own `address`, `resources` and `child_modules`). A plan also carries
//! `resource_changes[].change.after_unknown` (which attributes are "known after apply") and
//! `configuration` (each attribute's `expressions.*.references`, which is how a plan says that
//! `subnet_id = aws_subnet.app.id` before the id exists). Attribute names are the AWS
//! provider's (registry.terraform.io/providers/hashicorp/aws).
//!
//! References are resolved by id when the value is known (a state), else through the
//! configuration's references (a plan); `aws_subnet.app` referenced from a counted resource
//! picks the element with the same index when there is one, else the first.
//!
//! The output is RON text, written in a fixed order (resources sorted by address), every item
//! preceded by a comment naming the Terraform address it came from; defaults chosen for unknown
//! values are said in a comment; resources not modelled are listed at the top. Before it is
//! written the text is loaded and checked like any scenario.

use crate::ec2::catalog;
use crate::scenario::Diagnostic;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

mod read;
mod text;

use read::*;
pub use text::ron_str;
use text::*;

mod instances;
mod routes;
mod rules;

use instances::{instances, instances_text};
use routes::route_tables;
use rules::{network_acls, security_groups};

/// The AWS resource types the importer maps.
pub const MAPPED_TYPES: &[&str] = &[
    "aws_vpc",
    "aws_instance",
    "aws_network_interface",
    "aws_network_interface_attachment",
    "aws_subnet",
    "aws_network_acl",
    "aws_network_acl_rule",
    "aws_network_acl_association",
    "aws_security_group",
    "aws_security_group_rule",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_route_table",
    "aws_route",
    "aws_route_table_association",
    "aws_nat_gateway",
    "aws_internet_gateway",
    "aws_ec2_transit_gateway",
    "aws_ec2_transit_gateway_vpc_attachment",
    "aws_vpn_connection",
    "aws_placement_group",
    "aws_eip",
    "aws_autoscaling_group",
    "aws_launch_template",
];

/// An instance type nitrosim's catalog does not know becomes this (said in a comment).
pub const FALLBACK_INSTANCE_TYPE: &str = "c6i.8xlarge";
/// A subnet whose block is unknown at plan time gets 10.0.K.0/24 (K = its position).
pub const FALLBACK_AZ: &str = "use1-az1";
/// Addresses outside the VPC stand behind one instance in this block (TEST-NET-2, RFC 5737).
pub const INTERNET_CIDR: &str = "198.51.100.0/24";
/// MTU is an operating-system setting, not a Terraform attribute: 9001, EC2's default inside a
/// VPC (EC2 user guide, "Network maximum transmission unit"), unless a `nitrosim:mtu` tag says.
pub const DEFAULT_MTU: u32 = 9001;
/// ENA Express needs packets of at most 8900 B to use SRD (ENA Express user guide): the
/// ENA Express variant sets that MTU, as AWS recommends.
pub const ENA_EXPRESS_MTU: u32 = 8900;
/// Limits: a plan larger than this is refused rather than half-imported.
pub const MAX_RESOURCES: usize = 100_000;
pub const MAX_INPUT_BYTES: usize = 512 << 20;

#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// A flow log to replay as the workload, as the scenario should name it.
    pub flowlogs: Option<String>,
    /// Where to read that flow log now (to size the run); defaults to `flowlogs`.
    pub flowlogs_path: Option<std::path::PathBuf>,
    pub speedup: f64,
    /// Add "ena" and "ena-express" variants.
    pub compare_ena_express: bool,
    /// The instance standing for addresses outside the VPC.
    pub internet: String,
    /// Scenario name (default: the input file's stem).
    pub name: String,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            flowlogs: None,
            flowlogs_path: None,
            speedup: 1.0,
            compare_ena_express: false,
            internet: "internet".into(),
            name: "imported".into(),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Imported {
    pub text: String,
    pub resources: usize,
    pub ignored: usize,
    pub instances: usize,
}

/// Import the JSON text. `file` names it in errors.
pub fn import(file: &str, src: &str, o: &ImportOptions) -> Result<Imported, Diagnostic> {
    // Line 0: the problem is not about one place in the JSON.
    let err = |line: usize, col: usize, message: String, expected: &str, hint: &str| {
        let d = Diagnostic::new(file, message).expected(expected).hint(hint);
        if line > 0 { d.at(src, line, col) } else { d }
    };
    if src.len() > MAX_INPUT_BYTES {
        return Err(err(0, 0, format!("{} bytes", src.len()), "at most 512 MiB of JSON", "import one workspace"));
    }
    let doc: Value = serde_json::from_str(src).map_err(|e| {
        err(
            e.line(),
            e.column(),
            format!("malformed JSON: {e}"),
            "the output of `terraform show -json PLAN_OR_STATE`",
            "save it with `terraform show -json tfplan > plan.json` (not the binary plan file)",
        )
    })?;
    let version = doc.get("format_version").and_then(Value::as_str).ok_or_else(|| {
        let (l, c) = (1, 1);
        err(
            l,
            c,
            "no `format_version`".into(),
            "a `format_version` of 1.x",
            "this is not `terraform show -json` output",
        )
    })?;
    if version.split('.').next() != Some("1") {
        let (l, c) = locate(src, "\"format_version\"");
        return Err(err(
            l,
            c,
            format!("format_version {version:?}"),
            "major version 1",
            "Terraform's JSON format document says to reject an unsupported major version",
        ));
    }
    let (root, kind) = match (doc.pointer("/planned_values/root_module"), doc.pointer("/values/root_module")) {
        (Some(r), _) => (r, "plan"),
        (None, Some(r)) => (r, "state"),
        (None, None) => {
            return Err(err(
                1,
                1,
                "neither `planned_values.root_module` (a plan) nor `values.root_module` (a state)".into(),
                "terraform show -json output of a plan or a state",
                "an empty state has no `values`: apply or plan first",
            ));
        }
    };
    let mut unknown = BTreeMap::new();
    for rc in doc.get("resource_changes").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(a), Some(u)) = (rc.get("address").and_then(Value::as_str), rc.pointer("/change/after_unknown")) {
            unknown.insert(a.to_string(), u);
        }
    }
    let (mut config, mut vars, mut outputs) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    if let Some(m) = doc.pointer("/configuration/root_module") {
        collect_config(m, "", &mut config, &mut vars, &mut outputs, 0);
    }
    let mut res = Vec::new();
    let mut data = Vec::new();
    collect(root, &unknown, &config, &mut res, &mut data, 0)
        .map_err(|m| err(0, 0, m, "resources with address, type, name and values", "is the file complete?"))?;
    if res.len() > MAX_RESOURCES {
        return Err(err(0, 0, format!("{} resources", res.len()), "at most 100000", "import one workspace at a time"));
    }
    res.sort_by(|a, b| a.address.cmp(&b.address));
    let mut by_id = BTreeMap::new();
    let mut by_base: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (k, r) in res.iter().enumerate() {
        if let Some(id) = get_str(r.values, "id") {
            by_id.insert(id.to_string(), k);
        }
        // An instance's primary ENI is no resource of its own: its id names the instance.
        if r.ty == "aws_instance"
            && let Some(id) = get_str(r.values, "primary_network_interface_id")
        {
            by_id.entry(id.to_string()).or_insert(k);
        }
        by_base.entry(r.base.clone()).or_default().push(k);
    }
    let mut cx = Ctx { res, by_id, by_base, vars, outputs, notes: Vec::new() };
    let total = cx.res.len();

    // Unique scenario names per kind (a second `web` in another module is already `mod-web`).
    let mut taken: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for k in 0..cx.res.len() {
        let kind = match cx.res[k].ty.as_str() {
            "aws_instance" | "aws_autoscaling_group" => "instance",
            t => t,
        }
        .to_string();
        let set = taken.entry(kind).or_default();
        let mut n = cx.res[k].name.clone();
        let mut i = 2;
        while set.contains(&n) {
            n = format!("{}-{i}", cx.res[k].name);
            i += 1;
        }
        set.insert(n.clone());
        cx.res[k].name = n;
    }

    let mut ignored: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in &cx.res {
        if !MAPPED_TYPES.contains(&r.ty.as_str()) {
            ignored.entry(r.ty.clone()).or_default().push(r.address.clone());
        }
    }

    // --- VPC
    let vpcs = of_type(&cx, "aws_vpc");
    let vpc_line;
    let vpc_cidr = match vpcs.first() {
        Some(&k) => match get_str(cx.res[k].values, "cidr_block") {
            Some(c) => {
                vpc_line = format!("    // {}: cidr_block\n", cx.res[k].address);
                if vpcs.len() > 1 {
                    cx.notes.push(format!(
                        "{} VPCs: the first ({}) gives vpc_cidr; subnets of every VPC are kept",
                        vpcs.len(),
                        cx.res[k].address
                    ));
                }
                c.to_string()
            }
            None => {
                vpc_line =
                    format!("    // {}: cidr_block unknown at plan time: 10.0.0.0/16 assumed\n", cx.res[k].address);
                "10.0.0.0/16".into()
            }
        },
        None => {
            vpc_line = "    // no aws_vpc: 10.0.0.0/8 assumed as the VPC block\n".into();
            "10.0.0.0/8".into()
        }
    };

    // --- Subnets, with their route table and network ACL.
    let subnets = of_type(&cx, "aws_subnet");
    let mut subnet_rt: BTreeMap<usize, usize> = BTreeMap::new();
    for a in of_type(&cx, "aws_route_table_association") {
        if let (Some(s), Some(t)) = (
            cx.ref_of(a, &[Seg::Key("subnet_id")], "aws_subnet"),
            cx.ref_of(a, &[Seg::Key("route_table_id")], "aws_route_table"),
        ) {
            subnet_rt.insert(s, t);
        }
    }
    let mut subnet_acl: BTreeMap<usize, usize> = BTreeMap::new();
    for acl in of_type(&cx, "aws_network_acl") {
        for s in cx.refs(acl, &[Seg::Key("subnet_ids")]) {
            subnet_acl.insert(s, acl);
        }
    }
    for a in of_type(&cx, "aws_network_acl_association") {
        if let (Some(s), Some(t)) = (
            cx.ref_of(a, &[Seg::Key("subnet_id")], "aws_subnet"),
            cx.ref_of(a, &[Seg::Key("network_acl_id")], "aws_network_acl"),
        ) {
            subnet_acl.insert(s, t);
        }
    }
    let mut subnet_az: BTreeMap<usize, String> = BTreeMap::new();
    let known_blocks: Vec<crate::ec2::vpc::Cidr> = subnets
        .iter()
        .filter_map(|&s| get_str(cx.res[s].values, "cidr_block"))
        .filter_map(|c| crate::ec2::vpc::Cidr::parse(c).ok())
        .collect();
    let mut subnet_text = String::new();
    for (pos, &s) in subnets.iter().enumerate() {
        let r = &cx.res[s];
        let _ = writeln!(subnet_text, "        // {}", comment(&r.address));
        let cidr = match get_str(r.values, "cidr_block") {
            Some(c) => c.to_string(),
            None => {
                let c = free_block(&vpc_cidr, &known_blocks, pos);
                let _ = writeln!(
                    subnet_text,
                    "        // cidr_block known after apply: {c} assumed (a free block of the VPC)"
                );
                c
            }
        };
        if let Some(az) = get_str(r.values, "availability_zone_id").or(get_str(r.values, "availability_zone")) {
            subnet_az.insert(s, az.to_string());
        }
        let mut extra = String::new();
        if let Some(&acl) = subnet_acl.get(&s) {
            let _ = write!(extra, ", network_acl: {}", ron_str(&cx.res[acl].name));
        }
        if let Some(&rt) = subnet_rt.get(&s) {
            let _ = write!(extra, ", route_table: {}", ron_str(&cx.res[rt].name));
        }
        let _ = writeln!(subnet_text, "        (name: {}, cidr: {}{extra}),", ron_str(&r.name), ron_str(&cidr));
    }

    // --- Gateways.
    let mut gw_text = String::new();
    let mut has_internet_path = false;
    for k in 0..cx.res.len() {
        let kind = match cx.res[k].ty.as_str() {
            "aws_internet_gateway" => "InternetGateway",
            "aws_nat_gateway" => "NatGateway",
            "aws_ec2_transit_gateway" => "TransitGateway",
            "aws_vpn_connection" => "Vpn",
            _ => continue,
        };
        if kind == "InternetGateway" || kind == "NatGateway" {
            has_internet_path = true;
        }
        let r = &cx.res[k];
        let _ = writeln!(gw_text, "        // {}", comment(&r.address));
        let _ = writeln!(gw_text, "        (name: {}, kind: {kind}),", ron_str(&r.name));
    }
    for k in of_type(&cx, "aws_ec2_transit_gateway_vpc_attachment") {
        let tgw = cx.ref_of(k, &[Seg::Key("transit_gateway_id")], "aws_ec2_transit_gateway");
        let _ = writeln!(
            gw_text,
            "        // {}: attaches the VPC to {} (routes to the transit gateway carry traffic; the other side is not modelled)",
            comment(&cx.res[k].address),
            tgw.map_or("an unknown transit gateway".to_string(), |t| cx.res[t].name.clone())
        );
    }

    // --- ENIs and instances.
    let insts = instances(&mut cx, &subnets, &subnet_az);

    // --- Route tables: inline routes and aws_route.
    let (rt_text, internet_routes) = route_tables(&mut cx, &insts, &subnet_rt);

    // --- Network ACLs.
    let acl_text = network_acls(&mut cx);

    // --- Security groups.
    let sg_text = security_groups(&mut cx);

    // --- Placement groups.
    let mut pg_text = String::new();
    for p in of_type(&cx, "aws_placement_group") {
        let r = &cx.res[p];
        let strategy = get_str(r.values, "strategy").unwrap_or("cluster");
        let _ = writeln!(pg_text, "        // {}", comment(&r.address));
        let _ = writeln!(pg_text, "        (name: {}, strategy: {}),", ron_str(&r.name), ron_str(strategy));
    }

    // --- The internet, when the VPC reaches it.
    let internet = has_internet_path.then(|| o.internet.clone());
    let mut subnet_text_all = subnet_text;
    let mut rt_text_all = rt_text;
    if let Some(name) = &internet {
        let _ = writeln!(
            subnet_text_all,
            "        // Not in Terraform: hosts on the internet, outside the VPC's block (TEST-NET-2, RFC 5737)."
        );
        let rt = if internet_routes.is_empty() {
            String::new()
        } else {
            format!(", route_table: {}", ron_str(&format!("{name}-rt")))
        };
        let _ = writeln!(subnet_text_all, "        (name: {}, cidr: {}{rt}),", ron_str(name), ron_str(INTERNET_CIDR));
        if !internet_routes.is_empty() {
            let _ = writeln!(
                rt_text_all,
                "        // Not in Terraform: the internet reaches the public subnets through the internet gateway."
            );
            let _ = writeln!(rt_text_all, "        (name: {}, routes: [", ron_str(&format!("{name}-rt")));
            for l in &internet_routes {
                let _ = writeln!(rt_text_all, "{l}");
            }
            let _ = writeln!(rt_text_all, "        ]),");
        }
    }

    // --- Flow logs (sizes the run) and the interfaces map.
    let mut interfaces: BTreeMap<String, String> = BTreeMap::new();
    for i in &insts {
        for e in &i.enis {
            for k in &e.keys {
                interfaces.insert(k.clone(), i.name.clone());
            }
        }
    }
    let mut duration_ms: u64 = 1000;
    let mut flow_note = String::new();
    if let Some(fl) = &o.flowlogs {
        let path = o.flowlogs_path.clone().unwrap_or_else(|| fl.into());
        let ro = crate::workload::flowlogs::ReplayOptions {
            interfaces: &interfaces,
            internet: internet.as_deref(),
            vpc: crate::ec2::vpc::Cidr::parse(&vpc_cidr).unwrap_or(crate::ec2::vpc::Cidr::ANY),
            window_s: 60,
            max_groups: 10_000,
            max_exchanges: 200_000,
        };
        let replay = crate::workload::flowlogs::read(&path, fl, &ro)
            .map_err(|e| crate::scenario::flow_log_diagnostic(&e, "--flowlogs"))?;
        let last = replay.groups.iter().flat_map(|g| g.exchanges.iter().map(|x| x.offset_s)).max().unwrap_or(0);
        // The last exchange starts at last/speedup; a second more lets it finish.
        duration_ms = ((last as f64 * 1000.0 / o.speedup).ceil() as u64).saturating_add(1000);
        let s = &replay.stats;
        flow_note = format!(
            "        // {fl}: {} records ({}), {} groups; {} NODATA, {} SKIPDATA, {} REJECT, {} not TCP, {} from unknown interfaces, {} unmapped addresses.\n",
            s.records,
            replay.format,
            replay.groups.len(),
            s.nodata,
            s.skipdata,
            s.rejected_records,
            s.not_tcp,
            s.unknown_interface,
            s.unmapped_address
        );
    }

    // --- Instances text.
    // The internet's stand-in instance does not count: a scenario needs one of the user's.
    let total_instances: u64 = insts.iter().map(|i| i.count.unwrap_or(1) as u64).sum::<u64>();
    if total_instances == 0 {
        return Err(err(
            0,
            0,
            format!("no instances among the {total} resources ({kind})"),
            "at least one aws_instance or aws_autoscaling_group",
            "a scenario simulates instances; import the workspace that launches them",
        ));
    }
    let max = crate::scenario::validate::limits::MAX_INSTANCES as u64;
    if total_instances + internet.is_some() as u64 > max {
        return Err(err(
            0,
            0,
            // A desired_capacity beyond u32 was capped (instances.rs): the total is a floor then.
            format!(
                "{total_instances}{} instances among the {total} resources ({kind})",
                if insts.iter().any(|i| i.count == Some(u32::MAX)) { " or more" } else { "" }
            ),
            &format!("at most {max} instances in a scenario, the internet's stand-in included"),
            "an Auto Scaling group's desired_capacity counts its instances; import a smaller workspace",
        ));
    }
    let inst_text = instances_text(&insts, internet.as_deref());

    // --- Workloads.
    let mut wl = String::new();
    let inst_names: Vec<String> = insts
        .iter()
        .flat_map(|i| match i.count {
            Some(c) => (0..c).map(|k| format!("{}-{k}", i.name)).collect::<Vec<_>>(),
            None => vec![i.name.clone()],
        })
        .collect();
    let map_text = |indent: &str| -> String {
        let mut m = String::new();
        for (k, v) in &interfaces {
            let _ = writeln!(m, "{indent}    {}: {},", ron_str(k), ron_str(v));
        }
        m
    };
    match &o.flowlogs {
        Some(fl) => {
            wl += &flow_note;
            let _ = writeln!(wl, "        FlowLogs((");
            let _ = writeln!(wl, "            name: \"traffic\",");
            let _ = writeln!(wl, "            file: {},", ron_str(fl));
            let _ = writeln!(wl, "            // Interface ids and private addresses of the VPC -> instances.");
            let _ = writeln!(wl, "            interfaces: {{");
            wl += &map_text("            ");
            let _ = writeln!(wl, "            }},");
            if let Some(n) = &internet {
                let _ = writeln!(wl, "            internet: {},", ron_str(n));
            }
            let _ = writeln!(wl, "            speedup: {:?},", o.speedup);
            let _ = writeln!(wl, "        )),");
        }
        None => {
            let _ = writeln!(wl, "        // PLACEHOLDER: replace with your traffic. To replay VPC Flow Logs:");
            let _ = writeln!(
                wl,
                "        // FlowLogs((name: \"traffic\", file: \"flows.log\", speedup: 60.0, interfaces: {{"
            );
            for line in map_text("        //").lines() {
                let _ = writeln!(wl, "{line}");
            }
            let _ = writeln!(wl, "        // }})),");
            if inst_names.len() >= 2 {
                let _ = writeln!(
                    wl,
                    "        Bulk((name: \"placeholder\", from: {}, to: {}, bytes: \"10MB\")),",
                    ron_str(&inst_names[0]),
                    ron_str(&inst_names[1])
                );
            } else if let Some(n) = &internet {
                let _ = writeln!(
                    wl,
                    "        Bulk((name: \"placeholder\", from: {}, to: {}, bytes: \"10MB\")),",
                    ron_str(&inst_names[0]),
                    ron_str(n)
                );
            }
        }
    }

    // --- Variants.
    let mut var_text = String::new();
    if o.compare_ena_express {
        let eligible: Vec<&Inst> =
            insts.iter().filter(|i| catalog::lookup(&i.ty).is_some_and(|t| t.ena_express)).collect();
        let _ = writeln!(var_text, "        // Plain ENA: ENA Express off on every ENI.");
        let _ = writeln!(var_text, "        (name: \"ena\", set: {{");
        for i in &insts {
            for e in &i.enis {
                let _ = writeln!(
                    var_text,
                    "            {}: \"false\",",
                    ron_str(&format!("instances.{}.enis.{}.ena_srd_enabled", i.name, e.name))
                );
            }
        }
        let _ = writeln!(var_text, "        }}),");
        let _ = writeln!(
            var_text,
            "        // ENA Express on every ENI of a type that supports it, with the {ENA_EXPRESS_MTU}-byte MTU AWS recommends"
        );
        let _ = writeln!(var_text, "        // (larger packets would fall back to ENA silently).");
        let _ = writeln!(var_text, "        (name: \"ena-express\", set: {{");
        for i in &eligible {
            for e in &i.enis {
                let p = format!("instances.{}.enis.{}", i.name, e.name);
                let _ = writeln!(var_text, "            {}: \"true\",", ron_str(&format!("{p}.ena_srd_enabled")));
                let _ = writeln!(var_text, "            {}: \"{ENA_EXPRESS_MTU}\",", ron_str(&format!("{p}.mtu")));
            }
        }
        let _ = writeln!(var_text, "        }}),");
    }

    // --- Fabric: room for every instance (8 hosts per rack, as the default).
    let racks = (total_instances + internet.is_some() as u64).div_ceil(8).max(1);

    // --- Assemble.
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by `nitrosim import terraform` from {} ({kind}, format_version {version}).",
        comment(file)
    );
    let _ = writeln!(out, "// {total} resources; comments name the Terraform address each item comes from.");
    let _ = writeln!(out, "// Regenerate rather than edit, or edit freely: this file is an ordinary scenario.");
    if ignored.is_empty() && data.is_empty() {
        let _ = writeln!(out, "// Ignored resources: none.");
    } else {
        let _ = writeln!(out, "// Ignored resources (not modelled by nitrosim):");
        for (t, list) in &ignored {
            let _ = writeln!(out, "//   {t}: {}", comment(&list.join(", ")));
        }
        if !data.is_empty() {
            let _ = writeln!(out, "//   data sources: {}", comment(&data.join(", ")));
        }
    }
    if !cx.notes.is_empty() {
        let _ = writeln!(out, "// Notes:");
        for n in &cx.notes {
            let _ = writeln!(out, "//   {}", comment(n));
        }
    }
    let _ = writeln!(out, "Scenario(");
    let _ = writeln!(out, "    name: {},", ron_str(&o.name));
    let _ = writeln!(out, "    description: {},", ron_str(&format!("Imported from {file}")));
    let _ = writeln!(out, "    duration: \"{duration_ms}ms\",");
    let _ = writeln!(out, "    fabric: (racks: {racks}, hosts_per_rack: 8),");
    out += &vpc_line;
    let _ = writeln!(out, "    vpc_cidr: {},", ron_str(&vpc_cidr));
    let section = |out: &mut String, name: &str, body: &str| {
        if !body.is_empty() {
            let _ = writeln!(out, "    {name}: [");
            out.push_str(body);
            let _ = writeln!(out, "    ],");
        }
    };
    section(&mut out, "placement_groups", &pg_text);
    section(&mut out, "subnets", &subnet_text_all);
    section(&mut out, "network_acls", &acl_text);
    section(&mut out, "security_groups", &sg_text);
    section(&mut out, "gateways", &gw_text);
    section(&mut out, "route_tables", &rt_text_all);
    section(&mut out, "instances", &inst_text);
    let _ = writeln!(out, "    workloads: [");
    out += &wl;
    let _ = writeln!(out, "    ],");
    section(&mut out, "variants", &var_text);
    let _ = writeln!(out, ")");
    let ignored_n = ignored.values().map(Vec::len).sum::<usize>();
    Ok(Imported {
        text: out,
        resources: total,
        ignored: ignored_n,
        instances: (total_instances + internet.is_some() as u64) as usize,
    })
}
