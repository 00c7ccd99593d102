//! `nitrosim import terraform PLAN_OR_STATE.json`: a VPC described by Terraform, as a scenario.
//!
//! The input is what `terraform show -json` prints, in its documented "JSON Output Format"
//! (https://developer.hashicorp.com/terraform/internals/json-format, read 2026-11): an object
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
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

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

/// A located import error: file, line and column in the JSON (0 when not about one place).
#[derive(Clone, Debug)]
pub struct ImportError {
    pub file: String,
    pub line: usize,
    pub col: usize,
    pub message: String,
    pub expected: String,
    pub hint: String,
}

impl ImportError {
    pub fn to_diagnostic(&self, src: &str) -> crate::scenario::Diagnostic {
        let d = crate::scenario::Diagnostic::new(&self.file, self.message.clone())
            .expected(self.expected.clone())
            .hint(self.hint.clone());
        if self.line > 0 { d.at(src, self.line, self.col) } else { d }
    }
}

#[derive(Clone, Debug)]
pub struct Imported {
    pub text: String,
    pub resources: usize,
    pub ignored: usize,
    pub instances: usize,
}

struct Res<'a> {
    address: String,
    /// The address without instance keys: `module.app.aws_instance.web`.
    base: String,
    /// `module.app.` (with instance keys removed), or empty at the root.
    module: String,
    ty: String,
    index: Option<Value>,
    values: &'a Map<String, Value>,
    unknown: Option<&'a Value>,
    config: Option<&'a Value>,
    /// The scenario name it gets.
    name: String,
}

fn strip_keys(address: &str) -> String {
    let mut out = String::with_capacity(address.len());
    let mut depth = 0;
    for c in address.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// A RON string literal.
pub fn ron_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{{{:x}}}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

/// Text safe inside a `//` comment (one line).
fn comment(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// A scenario name from an address: module names, the resource name and its key, joined by `-`
/// (`module.app.aws_instance.web[2]` -> `app-web-2`, a member of fleet `app-web`).
fn scenario_name(r_address: &str, name: &str, index: Option<&Value>) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = r_address;
    while let Some(after) = rest.strip_prefix("module.") {
        let end = after.find('.').unwrap_or(after.len());
        let m = &after[..end];
        parts.push(strip_keys(m));
        if let (Some(a), Some(b)) = (m.find('['), m.find(']')) {
            parts.push(m[a + 1..b].trim_matches('"').to_string());
        }
        rest = after.get(end + 1..).unwrap_or("");
    }
    parts.push(name.to_string());
    match index {
        Some(Value::Number(n)) => parts.push(n.to_string()),
        Some(Value::String(s)) => parts.push(s.clone()),
        _ => {}
    }
    let joined = parts.join("-");
    let clean: String =
        joined.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '-' }).collect();
    if clean.is_empty() { "unnamed".into() } else { clean }
}

fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Where `"key": "value"` first appears in the JSON text, for errors about a resource.
fn locate(src: &str, needle: &str) -> (usize, usize) {
    match src.find(needle) {
        Some(o) => line_col(src, o),
        None => (0, 0),
    }
}

fn get_str<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}
fn get_bool(v: &Map<String, Value>, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}
fn get_i64(v: &Map<String, Value>, k: &str) -> Option<i64> {
    v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
}
fn get_arr<'a>(v: &'a Map<String, Value>, k: &str) -> &'a [Value] {
    v.get(k).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}
fn first_block<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    get_arr(v, k).first().and_then(Value::as_object)
}

/// Path into nested attributes / expressions: keys and list positions.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Key(&'a str),
    At(usize),
}

fn walk<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for s in path {
        v = match s {
            Seg::Key(k) => v.get(k)?,
            Seg::At(i) => v.get(i)?,
        };
    }
    Some(v)
}

struct Ctx<'a> {
    res: Vec<Res<'a>>,
    by_id: BTreeMap<String, usize>,
    by_base: BTreeMap<String, Vec<usize>>,
    /// (module prefix, variable) -> (the module call's expression, the caller's prefix).
    vars: BTreeMap<(String, String), (&'a Value, String)>,
    /// (module prefix, output) -> (the output's expression, that module's prefix).
    outputs: BTreeMap<(String, String), (&'a Value, String)>,
    notes: Vec<String>,
}

impl<'a> Ctx<'a> {
    fn is_unknown(&self, r: usize, path: &[Seg]) -> bool {
        self.res[r].unknown.and_then(|u| walk(u, path)).is_some_and(|v| v.as_bool() == Some(true))
    }

    /// Resources an attribute refers to: known ids, else the configuration's references.
    fn refs(&self, r: usize, path: &[Seg]) -> Vec<usize> {
        let res = &self.res[r];
        let mut out = Vec::new();
        let value = walk_map(res.values, path);
        let ids: Vec<&str> = match value {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => vec![],
        };
        for id in ids {
            if let Some(&k) = self.by_id.get(id) {
                out.push(k);
            }
        }
        if !out.is_empty() {
            return out;
        }
        let Some(expr) = res.config.and_then(|c| walk(c, path)) else {
            return out;
        };
        let own = match &res.index {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        self.resolve_expr(expr, &res.module, own.as_deref(), 0, &mut out);
        out
    }

    /// Resources an expression's `references` lead to, through module variables (`var.x`, bound
    /// by the module call) and outputs (`module.net.subnet_id`) when they pass ids along.
    fn resolve_expr(&self, expr: &Value, module: &str, own: Option<&str>, depth: usize, out: &mut Vec<usize>) {
        if depth > 16 {
            return;
        }
        let Some(refs) = expr.get("references").and_then(Value::as_array) else { return };
        for rf in refs.iter().filter_map(Value::as_str) {
            let parts: Vec<&str> = rf.splitn(3, '.').collect();
            match parts[..] {
                ["var", v, ..] => {
                    let v = v.split('[').next().unwrap_or(v);
                    if let Some((e, caller)) = self.vars.get(&(module.to_string(), v.to_string())) {
                        self.resolve_expr(e, caller, own, depth + 1, out);
                    }
                }
                ["module", m, o] => {
                    let m = m.split('[').next().unwrap_or(m);
                    let o = o.split(['.', '[']).next().unwrap_or(o);
                    let inner = format!("{module}module.{m}.");
                    if let Some((e, p)) = self.outputs.get(&(inner, o.to_string())) {
                        self.resolve_expr(e, p, own, depth + 1, out);
                    }
                }
                [ty, name, ..] if ty.starts_with("aws_") => {
                    let (plain, key) = match name.find('[') {
                        Some(p) => {
                            (&name[..p], name[p + 1..].strip_suffix(']').map(|k| k.trim_matches('"').to_string()))
                        }
                        None => (name, None),
                    };
                    let base = format!("{module}{ty}.{plain}");
                    let Some(cands) = self.by_base.get(&base) else { continue };
                    let key_of = |k: usize| match &self.res[k].index {
                        Some(Value::Number(n)) => Some(n.to_string()),
                        Some(Value::String(s)) => Some(s.clone()),
                        _ => None,
                    };
                    let pick = key
                        .as_ref()
                        .and_then(|k| cands.iter().find(|&&c| key_of(c).as_ref() == Some(k)))
                        .or_else(|| cands.iter().find(|&&c| own.is_some() && key_of(c).as_deref() == own))
                        .or(cands.first());
                    if let Some(&p) = pick
                        && !out.contains(&p)
                    {
                        out.push(p);
                    }
                }
                _ => {}
            }
        }
    }

    fn ref_of(&self, r: usize, path: &[Seg], ty: &str) -> Option<usize> {
        self.refs(r, path).into_iter().find(|&k| self.res[k].ty == ty)
    }
}

fn walk_map<'a>(m: &'a Map<String, Value>, path: &[Seg]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    walk(m.get(*k)?, rest)
}

/// Collect every resource of a module and its children.
fn collect<'a>(
    module: &'a Value,
    unknown: &BTreeMap<String, &'a Value>,
    config: &BTreeMap<String, &'a Value>,
    out: &mut Vec<Res<'a>>,
    data: &mut Vec<String>,
    depth: usize,
) -> Result<(), String> {
    if depth > 64 {
        return Err("modules nested more than 64 deep".into());
    }
    for r in module.get("resources").and_then(Value::as_array).into_iter().flatten() {
        let address = r.get("address").and_then(Value::as_str).ok_or("a resource without `address`")?;
        if r.get("mode").and_then(Value::as_str) == Some("data") {
            data.push(address.to_string());
            continue;
        }
        let ty = r.get("type").and_then(Value::as_str).ok_or_else(|| format!("{address}: no `type`"))?;
        let name = r.get("name").and_then(Value::as_str).ok_or_else(|| format!("{address}: no `name`"))?;
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        let values = match r.get("values") {
            Some(Value::Object(m)) => m,
            Some(Value::Null) | None => EMPTY.get_or_init(Map::new),
            Some(_) => return Err(format!("{address}: `values` is not an object")),
        };
        let base = strip_keys(address);
        let module_prefix = base.strip_suffix(&format!("{ty}.{name}")).unwrap_or("").to_string();
        let index = r.get("index").cloned();
        out.push(Res {
            address: address.to_string(),
            name: scenario_name(address, name, index.as_ref()),
            base: base.clone(),
            module: module_prefix,
            ty: ty.to_string(),
            index,
            values,
            unknown: unknown.get(address).copied(),
            config: config.get(&base).copied(),
        });
    }
    for c in module.get("child_modules").and_then(Value::as_array).into_iter().flatten() {
        collect(c, unknown, config, out, data, depth + 1)?;
    }
    Ok(())
}

/// The configuration's resources by base address (`module.app.aws_instance.web`) -> expressions.
type Bound<'a> = BTreeMap<(String, String), (&'a Value, String)>;

fn collect_config<'a>(
    module: &'a Value,
    prefix: &str,
    out: &mut BTreeMap<String, &'a Value>,
    vars: &mut Bound<'a>,
    outputs: &mut Bound<'a>,
    depth: usize,
) {
    if depth > 64 {
        return;
    }
    if let Some(os) = module.get("outputs").and_then(Value::as_object) {
        for (name, o) in os {
            if let Some(e) = o.get("expression") {
                outputs.insert((prefix.to_string(), name.clone()), (e, prefix.to_string()));
            }
        }
    }
    for r in module.get("resources").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(a), Some(e)) = (r.get("address").and_then(Value::as_str), r.get("expressions")) {
            out.insert(format!("{prefix}{a}"), e);
        }
    }
    if let Some(calls) = module.get("module_calls").and_then(Value::as_object) {
        for (name, call) in calls {
            let inner = format!("{prefix}module.{name}.");
            if let Some(es) = call.get("expressions").and_then(Value::as_object) {
                for (v, e) in es {
                    vars.insert((inner.clone(), v.clone()), (e, prefix.to_string()));
                }
            }
            if let Some(m) = call.get("module") {
                collect_config(m, &inner, out, vars, outputs, depth + 1);
            }
        }
    }
}

struct Eni {
    name: String,
    source: String,
    mtu: u32,
    mtu_note: Option<String>,
    groups: Vec<String>,
    srd: bool,
    srd_udp: bool,
    efa: bool,
    source_dest_check: bool,
    subnet: Option<String>,
    /// Interface id and private addresses (for flow logs).
    keys: Vec<String>,
}

struct Inst {
    name: String,
    source: String,
    notes: Vec<String>,
    ty: String,
    az: String,
    pg: Option<String>,
    subnet: Option<String>,
    count: Option<u32>,
    enis: Vec<Eni>,
}

fn mtu_tag(values: &Map<String, Value>) -> Option<u32> {
    let tags = values.get("tags_all").or_else(|| values.get("tags"))?;
    tags.get("nitrosim:mtu")?.as_str()?.parse().ok()
}

fn protocol(p: &str) -> String {
    match p {
        "-1" | "all" => "all".into(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        other => other.to_ascii_lowercase(),
    }
}

/// Ports for a rule: none for all-protocol or ICMP rules, and for 0-0 / full ranges.
fn ports(proto: &str, from: Option<i64>, to: Option<i64>) -> Option<String> {
    if proto != "tcp" && proto != "udp" {
        return None;
    }
    match (from, to) {
        (Some(a), Some(b)) if a == 0 && (b == 0 || b == 65535) => None,
        (Some(a), Some(b)) if a == b => Some(a.to_string()),
        (Some(a), Some(b)) if a >= 0 && b >= a => Some(format!("{a}-{b}")),
        _ => None,
    }
}

fn icmp(proto: &str, from: Option<i64>, to: Option<i64>) -> String {
    if proto != "icmp" {
        return String::new();
    }
    let mut s = String::new();
    if let Some(t) = from.filter(|t| *t >= 0) {
        let _ = write!(s, ", icmp_type: {t}");
        if let Some(c) = to.filter(|c| *c >= 0) {
            let _ = write!(s, ", icmp_code: {c}");
        }
    }
    s
}

struct SgRule {
    source: String,
    text: String,
}

/// A /24 inside the VPC's block that no known subnet overlaps (the `skip`-th such), for a subnet
/// whose block is known only after apply.
fn free_block(vpc: &str, known: &[crate::ec2::vpc::Cidr], skip: usize) -> String {
    let Ok(v) = crate::ec2::vpc::Cidr::parse(vpc) else { return "10.0.0.0/24".into() };
    let blocks = if v.prefix <= 24 { 1u64 << (24 - v.prefix) } else { 1 };
    let free = (0..blocks.min(65_536)).map(|k| v.base + ((k as u32) << 8)).filter(|&b| {
        known.iter().all(|c| !c.contains(b) && !crate::ec2::vpc::Cidr { base: b, prefix: 24 }.contains(c.base))
    });
    match free.clone().nth(skip).or_else(|| free.clone().next()) {
        Some(b) => format!("{}/24", std::net::Ipv4Addr::from(b)),
        None => vpc.to_string(),
    }
}

/// Import the JSON text. `file` names it in errors.
pub fn import(file: &str, src: &str, o: &ImportOptions) -> Result<Imported, ImportError> {
    let err = |line: usize, col: usize, message: String, expected: &str, hint: &str| ImportError {
        file: file.to_string(),
        line,
        col,
        message,
        expected: expected.to_string(),
        hint: hint.to_string(),
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
    let of_type = |cx: &Ctx, t: &str| -> Vec<usize> { (0..cx.res.len()).filter(|&k| cx.res[k].ty == t).collect() };

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
    let enis = of_type(&cx, "aws_network_interface");
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
    for a in of_type(&cx, "aws_network_interface_attachment") {
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
    let instances = of_type(&cx, "aws_instance");
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
    for e in of_type(&cx, "aws_eip") {
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
        let pg = pg_name(&cx, i, &[Seg::Key("placement_group")]);
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
            let mut eni = eni_of(&cx, e, dev);
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
    for g in of_type(&cx, "aws_autoscaling_group") {
        let r = &cx.res[g];
        let v = r.values;
        let mut notes = Vec::new();
        let count = match get_i64(v, "desired_capacity").or(get_i64(v, "min_size")) {
            Some(n) if n >= 1 => n as u32,
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
                of_type(&cx, "aws_launch_template")
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
        let pg = pg_name(&cx, lt, &[Seg::Key("placement"), Seg::At(0), Seg::Key("group_name")])
            .or_else(|| pg_name(&cx, g, &[Seg::Key("placement_group")]));
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

    // --- Route tables: inline routes and aws_route.
    let eni_owner: BTreeMap<usize, String> = {
        let mut m = BTreeMap::new();
        for inst in &insts {
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
    let tables = of_type(&cx, "aws_route_table");
    let mut internet_routes: Vec<String> = Vec::new();
    let mut extra_routes: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for r in of_type(&cx, "aws_route") {
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
            match target(&cx, k, &path) {
                Ok(Some(tg)) => {
                    if dst == "0.0.0.0/0" && of_type(&cx, "aws_internet_gateway").iter().any(|&g| cx.res[g].name == tg)
                    {
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
            for (&s, &rt) in &subnet_rt {
                if rt == t
                    && let Some(c) = get_str(cx.res[s].values, "cidr_block")
                {
                    let igw = of_type(&cx, "aws_internet_gateway")[0];
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

    // --- Network ACLs.
    let mut acl_text = String::new();
    let mut acl_rules: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for r in of_type(&cx, "aws_network_acl_rule") {
        match cx.ref_of(r, &[Seg::Key("network_acl_id")], "aws_network_acl") {
            Some(a) => acl_rules.entry(a).or_default().push(r),
            None => cx.notes.push(format!("{}: network ACL unresolved, rule not modelled", cx.res[r].address)),
        }
    }
    for a in of_type(&cx, "aws_network_acl") {
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

    // --- Security groups.
    let sgs = of_type(&cx, "aws_security_group");
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
                let (rules, n) = peer_rules(&cx, g, bv, g, &[Seg::Key(key), Seg::At(p)], &src);
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
        let (rules, n) = peer_rules(&cx, k, v, g, &[], &src);
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
        let replay = crate::workload::flowlogs::read(&path, fl, &ro).map_err(|e| ImportError {
            file: e.file.clone(),
            line: e.line,
            col: 1,
            message: format!(
                "{}{}",
                if e.field.is_empty() { String::new() } else { format!("field `{}`: ", e.field) },
                e.message
            ),
            expected: "VPC Flow Log records".into(),
            hint: e.hint.clone(),
        })?;
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
    let total_instances: u64 =
        insts.iter().map(|i| i.count.unwrap_or(1) as u64).sum::<u64>() + internet.is_some() as u64;
    if total_instances == 0 {
        return Err(err(
            0,
            0,
            format!("no instances among the {total} resources ({kind})"),
            "at least one aws_instance or aws_autoscaling_group",
            "a scenario simulates instances; import the workspace that launches them",
        ));
    }
    let mut inst_text = String::new();
    for i in &insts {
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
    if let Some(name) = &internet {
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
    let racks = total_instances.div_ceil(8).max(1);

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
    Ok(Imported { text: out, resources: total, ignored: ignored_n, instances: total_instances as usize })
}
