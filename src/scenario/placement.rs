//! Where instances land on the fabric. A pure function of the spec, used by validation (to
//! report a full rack as a scenario error) and by the model builder.

use super::spec::ScenarioSpec;

const NONE: u32 = u32::MAX;

/// Host index for each instance. Members of a cluster placement group share one rack (that is
/// what "cluster" buys: fewer hops, and the 10 Gbps flow limit); other instances are spread
/// round-robin over racks, so their traffic crosses the spine as it usually does on EC2.
pub fn place(spec: &ScenarioSpec) -> Result<Vec<u32>, String> {
    let f = &spec.fabric;
    let (racks, hpr) = (f.racks, f.hosts_per_rack);
    let mut used = vec![0u32; racks as usize];
    let mut host = vec![NONE; spec.instances.len()];
    let take = |rack: u32, used: &mut Vec<u32>| -> Option<u32> {
        let r = rack as usize;
        (used[r] < hpr).then(|| {
            used[r] += 1;
            rack * hpr + used[r] - 1
        })
    };
    // Explicit racks first, then cluster groups, then the rest.
    for (k, i) in spec.instances.iter().enumerate() {
        if let Some(r) = i.rack {
            host[k] =
                take(r, &mut used).ok_or_else(|| format!("rack {r} is full; instance {:?} does not fit", i.name))?;
        }
    }
    for pg in spec.placement_groups.iter().filter(|p| p.strategy == "cluster") {
        let members: Vec<usize> = (0..spec.instances.len())
            .filter(|&k| host[k] == NONE && spec.instances[k].placement_group.as_deref() == Some(&pg.name))
            .collect();
        if members.is_empty() {
            continue;
        }
        let anchor = spec
            .instances
            .iter()
            .enumerate()
            .find(|(k, i)| host[*k] != NONE && i.placement_group.as_deref() == Some(&pg.name));
        let rack = match anchor {
            Some((k, _)) => host[k] / hpr,
            None => (0..racks)
                .find(|&r| hpr - used[r as usize] >= members.len() as u32)
                .ok_or_else(|| format!("no rack has room for cluster placement group {:?}", pg.name))?,
        };
        for k in members {
            host[k] = take(rack, &mut used)
                .ok_or_else(|| format!("rack {rack} is full for cluster placement group {:?}", pg.name))?;
        }
    }
    // Spread: each member on a rack no other member uses. Partition: partition p of the group on
    // a rack of its own, members round-robin over the partitions (EC2 user guide, placement
    // groups: distinct racks, each with its own network and power source).
    for pg in spec.placement_groups.iter().filter(|p| p.strategy != "cluster") {
        let members: Vec<usize> = (0..spec.instances.len())
            .filter(|&k| host[k] == NONE && spec.instances[k].placement_group.as_deref() == Some(&pg.name))
            .collect();
        let partitions = if pg.strategy == "spread" { members.len() } else { pg.partitions.unwrap_or(2) as usize };
        let mut rack_of: Vec<Option<u32>> = vec![None; partitions.max(1)];
        let mut taken_racks: Vec<u32> = Vec::new();
        for (n, k) in members.into_iter().enumerate() {
            let p = n % rack_of.len();
            let rack = match rack_of[p] {
                Some(r) => r,
                None => {
                    let r =
                        (0..racks).find(|r| !taken_racks.contains(r) && used[*r as usize] < hpr).ok_or_else(|| {
                            format!(
                                "{} placement group {:?} needs a rack of its own per {}: the fabric has {racks}",
                                pg.strategy,
                                pg.name,
                                if pg.strategy == "spread" { "member" } else { "partition" }
                            )
                        })?;
                    taken_racks.push(r);
                    rack_of[p] = Some(r);
                    r
                }
            };
            host[k] = take(rack, &mut used)
                .ok_or_else(|| format!("rack {rack} is full for placement group {:?}", pg.name))?;
        }
    }
    let mut next_rack = 0u32;
    for (k, i) in spec.instances.iter().enumerate() {
        if host[k] != NONE {
            continue;
        }
        let mut placed = None;
        for step in 0..racks {
            let r = (next_rack + step) % racks;
            if let Some(h) = take(r, &mut used) {
                placed = Some(h);
                next_rack = (r + 1) % racks;
                break;
            }
        }
        host[k] = placed.ok_or_else(|| format!("the fabric is full; instance {:?} does not fit", i.name))?;
    }
    Ok(host)
}
