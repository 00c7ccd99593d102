//! `nitrosim list`: the bundled scenarios and the instance-type catalog.

use super::*;

/// `nitrosim list` filters on the instance-type catalog.
pub(crate) struct TypeFilter {
    pub(crate) family: Option<String>,
    pub(crate) min_gbps: Option<f64>,
    pub(crate) efa: bool,
    pub(crate) ena_express: bool,
}

impl TypeFilter {
    pub(crate) fn any(&self) -> bool {
        self.family.is_some() || self.min_gbps.is_some() || self.efa || self.ena_express
    }
    fn keeps(&self, t: &nitrosim::ec2::InstanceType) -> bool {
        self.family.as_deref().is_none_or(|f| t.family().starts_with(f))
            && self.min_gbps.is_none_or(|g| t.bandwidth_mbps as f64 >= g * 1000.0)
            && (!self.efa || t.efa)
            && (!self.ena_express || t.ena_express)
    }
}

pub(crate) fn cmd_list(types_only: bool, filter: &TypeFilter) -> Result<(), Failure> {
    if let Some(g) = filter.min_gbps
        && !(g.is_finite() && g >= 0.0)
    {
        return Err(Failure::Usage(format!("--min-gbps {g}: expected a number of Gbps, 0 or more")));
    }
    if !types_only {
        outln!("Bundled scenarios (scenarios/):");
        for (file, text) in scenario::BUNDLED {
            let desc = scenario::parse(file, text).map(|s| s.description).unwrap_or_default();
            let default = if *file == scenario::DEFAULT_SCENARIO_NAME { " (default)" } else { "" };
            outln!("  {file}{default}\n      {}", desc.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        outln!("");
    }
    let picked: Vec<&nitrosim::ec2::InstanceType> = CATALOG.iter().filter(|t| filter.keeps(t)).collect();
    if picked.is_empty() {
        return Err(Failure::Usage("no instance type matches these filters (see `nitrosim list --types`)".into()));
    }
    // Mbit/s as Gbps without trailing zeros: 12500 -> "12.5", 64 -> "0.064".
    let gbps = |m: u64| format!("{:.3}", m as f64 / 1000.0).trim_end_matches('0').trim_end_matches('.').to_string();
    let yn = |b: bool| if b { "yes" } else { "no" };
    let head = ["type", "vCPU", "Gbps", "baseline", "cards", "ENIs", "IPv4/ENI", "queues", "ENA-X", "EFA"];
    let rows: Vec<[String; 10]> = picked
        .iter()
        .map(|t| {
            [
                t.name.to_string(),
                t.vcpus.to_string(),
                gbps(t.bandwidth_mbps),
                gbps(t.baseline_mbps),
                t.network_cards.to_string(),
                t.max_enis.to_string(),
                t.ipv4_per_eni.to_string(),
                t.ena_queues.to_string(),
                yn(t.ena_express).to_string(),
                yn(t.efa).to_string(),
            ]
        })
        .collect();
    // Each column as wide as its widest cell, so the table stays aligned whatever the values.
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::from("  ");
        for (k, (c, w)) in cells.iter().zip(width).enumerate() {
            if k == 0 { s += &format!("{c:<w$}") } else { s += &format!("  {c:>w$}") }
        }
        s
    };
    outln!("Instance types ({} of {}; source: src/ec2/catalog/instance_types.csv):", rows.len(), CATALOG.len());
    outln!("{}", line(&head));
    for r in &rows {
        outln!("{}", line(&r.each_ref().map(String::as_str)));
    }
    Ok(())
}
