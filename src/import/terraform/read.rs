//! Reading `terraform show -json`: resources collected from the module tree, and references
//! between them resolved by id (a state) or through the configuration (a plan).

use super::*;

pub(super) struct Res<'a> {
    pub(super) address: String,
    /// The address without instance keys: `module.app.aws_instance.web`.
    pub(super) base: String,
    /// `module.app.` (with instance keys removed), or empty at the root.
    pub(super) module: String,
    pub(super) ty: String,
    pub(super) index: Option<Value>,
    pub(super) values: &'a Map<String, Value>,
    pub(super) unknown: Option<&'a Value>,
    pub(super) config: Option<&'a Value>,
    /// The scenario name it gets.
    pub(super) name: String,
}

pub(super) fn strip_keys(address: &str) -> String {
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

/// A scenario name from an address: module names, the resource name and its key, joined by `-`
/// (`module.app.aws_instance.web[2]` -> `app-web-2`, a member of fleet `app-web`).
pub(super) fn scenario_name(r_address: &str, name: &str, index: Option<&Value>) -> String {
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

pub(super) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let before = &src[..offset.min(src.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// Where `"key": "value"` first appears in the JSON text, for errors about a resource.
pub(super) fn locate(src: &str, needle: &str) -> (usize, usize) {
    match src.find(needle) {
        Some(o) => line_col(src, o),
        None => (0, 0),
    }
}

pub(super) fn get_str<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a str> {
    v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty())
}
pub(super) fn get_bool(v: &Map<String, Value>, k: &str) -> Option<bool> {
    v.get(k).and_then(Value::as_bool)
}
pub(super) fn get_i64(v: &Map<String, Value>, k: &str) -> Option<i64> {
    v.get(k).and_then(|x| x.as_i64().or_else(|| x.as_str().and_then(|s| s.parse().ok())))
}
pub(super) fn get_arr<'a>(v: &'a Map<String, Value>, k: &str) -> &'a [Value] {
    v.get(k).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}
pub(super) fn first_block<'a>(v: &'a Map<String, Value>, k: &str) -> Option<&'a Map<String, Value>> {
    get_arr(v, k).first().and_then(Value::as_object)
}

/// Path into nested attributes / expressions: keys and list positions.
#[derive(Clone, Copy)]
pub(super) enum Seg<'a> {
    Key(&'a str),
    At(usize),
}

pub(super) fn walk<'a>(mut v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    for s in path {
        v = match s {
            Seg::Key(k) => v.get(k)?,
            Seg::At(i) => v.get(i)?,
        };
    }
    Some(v)
}

pub(super) struct Ctx<'a> {
    pub(super) res: Vec<Res<'a>>,
    pub(super) by_id: BTreeMap<String, usize>,
    pub(super) by_base: BTreeMap<String, Vec<usize>>,
    /// (module prefix, variable) -> (the module call's expression, the caller's prefix).
    pub(super) vars: BTreeMap<(String, String), (&'a Value, String)>,
    /// (module prefix, output) -> (the output's expression, that module's prefix).
    pub(super) outputs: BTreeMap<(String, String), (&'a Value, String)>,
    pub(super) notes: Vec<String>,
}

impl<'a> Ctx<'a> {
    pub(super) fn is_unknown(&self, r: usize, path: &[Seg]) -> bool {
        self.res[r].unknown.and_then(|u| walk(u, path)).is_some_and(|v| v.as_bool() == Some(true))
    }

    /// Resources an attribute refers to: known ids, else the configuration's references.
    pub(super) fn refs(&self, r: usize, path: &[Seg]) -> Vec<usize> {
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
    pub(super) fn resolve_expr(
        &self,
        expr: &Value,
        module: &str,
        own: Option<&str>,
        depth: usize,
        out: &mut Vec<usize>,
    ) {
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

    pub(super) fn ref_of(&self, r: usize, path: &[Seg], ty: &str) -> Option<usize> {
        self.refs(r, path).into_iter().find(|&k| self.res[k].ty == ty)
    }
}

pub(super) fn walk_map<'a>(m: &'a Map<String, Value>, path: &[Seg]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let Seg::Key(k) = first else { return None };
    walk(m.get(*k)?, rest)
}

/// Collect every resource of a module and its children.
pub(super) fn collect<'a>(
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

pub(super) fn collect_config<'a>(
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

/// The resources of one type, in address order.
pub(super) fn of_type(cx: &Ctx, t: &str) -> Vec<usize> {
    (0..cx.res.len()).filter(|&k| cx.res[k].ty == t).collect()
}
