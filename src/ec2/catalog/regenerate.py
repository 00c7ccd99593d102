#!/usr/bin/env python3
"""Regenerate instance_types.csv, nitrosim's instance-type catalog, from public machine-readable sources.

Usage (Python 3.11, standard library only):

    python3 src/ec2/catalog/regenerate.py SOURCES_DIR > src/ec2/catalog/instance_types.csv

SOURCES_DIR holds four files, each a verbatim copy of a public file (the commits used for the
committed CSV are in its header; take newer ones to refresh):

  vpclimits.go   github.com/aws/karpenter-provider-aws  pkg/providers/instancetype/zz_generated.vpclimits.go
                 Generated from EC2 DescribeInstanceTypes: maximum ENIs (Interface), IPv4 addresses per
                 ENI, network cards, hypervisor, bare metal. Defines the universe: every Nitro type.
  bandwidth.go   github.com/aws/karpenter-provider-aws  pkg/providers/instancetype/zz_generated.bandwidth.go
                 Generated from the EC2 instance-types documentation: baseline bandwidth, Mbit/s.
  gp.html        github.com/aws/karpenter-provider-aws  hack/code/bandwidth_gen/example/gp.html
                 A copy of https://docs.aws.amazon.com/ec2/latest/instancetypes/gp.html: for the
                 general-purpose families, vCPUs, baseline / burst bandwidth, EFA, ENA Express.
  vcpus.go       github.com/infracost/infracost  internal/resources/aws/util.go
                 InstanceTypeToVCPU, generated with `aws ec2 describe-instance-types` (DefaultVCpus).

For example, from clones of the two repositories at the commits named in the CSV's header:

    git -C karpenter-provider-aws show HEAD:pkg/providers/instancetype/zz_generated.vpclimits.go > src/vpclimits.go
    git -C karpenter-provider-aws show HEAD:pkg/providers/instancetype/zz_generated.bandwidth.go > src/bandwidth.go
    git -C karpenter-provider-aws show HEAD:hack/code/bandwidth_gen/example/gp.html > src/gp.html
    git -C infracost show HEAD:internal/resources/aws/util.go > src/vcpus.go

(update the commits and dates in HEADER below when you take newer ones), and the overlay beside
this script (overlay.csv): hand-curated facts the sources lack, each with its
source, which win over the sources (every disagreement is printed on stderr).

Fields and precedence:
  vcpus           gp.html > vcpus.go > size-name rule (medium 1, large 2, xlarge 4, Nxlarge 4N,
                  metal = the family's largest size); the rule is checked against the sourced values
                  and the number of disagreements is printed
  baseline_mbps   bandwidth.go > gp.html
  bandwidth_mbps  overlay > gp.html burst > baseline (types that do not burst)
  network_cards, max_enis, ipv4_per_eni   vpclimits.go (gp.html disagreements are printed)
  ena_queues      overlay > min(vCPUs, 32): a model rule. AWS's per-type ENA queue table is not in a
                  machine-readable source here; 32 is the most queues an ENI offers on the types whose
                  table we have read; the driver's own ceiling (ENA_MAX_NUM_IO_QUEUES) is 128.
  efa, ena_express  overlay > gp.html > false
  efa_rdma        overlay > none
Types without a baseline bandwidth in any source (a few new or special types) are left out and
listed on stderr.
"""

import csv
import html
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUEUES_PER_ENI_RULE = 32


def parse_vpclimits(text):
    out = {}
    for name, body in re.findall(r'^\t"([^"]+)": \{\n(.*?)^\t\},', text, re.S | re.M):
        nitro = 'Hypervisor:  "nitro"' in body or "IsBareMetal: true" in body
        if not nitro:
            continue
        out[name] = {
            "max_enis": int(re.search(r"Interface:\s+(\d+)", body).group(1)),
            "ipv4_per_eni": int(re.search(r"IPv4PerInterface:\s+(\d+)", body).group(1)),
            "network_cards": len(re.findall(r"^\s+NetworkCardIndex:", body, re.M)),
            "metal": "IsBareMetal: true" in body,
        }
    return out


def parse_bandwidth(text):
    return {k: int(v) for k, v in re.findall(r'^\t\t"([^"]+)":\s+(\d+),', text, re.M)}


def parse_vcpus(text):
    i = text.find("var InstanceTypeToVCPU")
    j = text.find("\n}", i)
    return {k: int(v) for k, v in re.findall(r'"([a-z0-9-]+\.[a-z0-9-]+)":\s+(\d+),', text[i:j])}


def html_table(page, anchor):
    i = page.find(f'id="{anchor}"')
    if i < 0:
        sys.exit(f"gp.html: no table after id={anchor!r}")
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", page[i : page.find("</table>", i)], re.S):
        cells = []
        for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S):
            c = re.sub(r"<sup>.*?</sup>", "", c, flags=re.S)
            cells.append(html.unescape(re.sub(r"<[^>]+>", "", c)).strip())
        rows.append(cells)
    return rows


def gbps_to_mbps(s):
    return round(float(s) * 1000)


def parse_gp(page):
    out = {}
    for r in html_table(page, "gp_network")[1:]:
        if len(r) != 9:
            continue  # family heading rows
        name, bw, efa, _ena, enax, cards, enis, ips, _v6 = r
        if "/" in bw:
            base, burst = (gbps_to_mbps(x) for x in bw.split("/"))
        else:
            m = re.match(r"([\d.]+) Gigabit", bw)
            if not m:
                continue
            base = burst = gbps_to_mbps(m.group(1))
        out[name] = {
            "baseline_mbps": base,
            "bandwidth_mbps": burst,
            "efa": efa == "✓",
            "ena_express": enax == "✓",
            "network_cards": int(cards),
            "max_enis": int(enis),
            "ipv4_per_eni": int(ips),
        }
    for r in html_table(page, "gp_hardware")[1:]:
        if len(r) >= 5 and r[0] in out and r[4].isdigit():
            out[r[0]]["vcpus"] = int(r[4])
    return out


def size_rule_vcpus(name, families_max):
    family, size = name.split(".", 1)
    if size == "medium":
        return 1
    if size == "large":
        return 2
    m = re.fullmatch(r"(\d*)xlarge", size)
    if m:
        return 4 * int(m.group(1) or 1)
    m = re.fullmatch(r"metal-(\d+)xl", size)
    if m:
        return 4 * int(m.group(1))
    if size == "metal":
        return families_max.get(family)
    return None


def parse_overlay(path):
    rows = []
    with open(path, newline="") as f:
        for rec in csv.reader(line for line in f if line.strip() and not line.startswith("#")):
            pattern, field, value, source = rec[0], rec[1], rec[2], ",".join(rec[3:])
            rows.append((pattern, field, value, source))
    return rows


def overlay_value(overlay, name, field):
    family = name.split(".")[0]
    exact = [v for p, f, v, _ in overlay if f == field and p == name]
    fam = [v for p, f, v, _ in overlay if f == field and p == family + ".*"]
    return (exact or fam or [None])[0]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    src = Path(sys.argv[1])
    limits = parse_vpclimits((src / "vpclimits.go").read_text())
    baseline = parse_bandwidth((src / "bandwidth.go").read_text())
    gp = parse_gp((src / "gp.html").read_text())
    vcpu_src = parse_vcpus((src / "vcpus.go").read_text())
    overlay = parse_overlay(HERE / "overlay.csv")
    # Types the snapshot lacks come whole from the overlay.
    for pattern, field, _, _ in overlay:
        if field == "max_enis" and pattern not in limits:
            limits[pattern] = {
                k: int(overlay_value(overlay, pattern, k)) for k in ("max_enis", "ipv4_per_eni", "network_cards")
            }
            limits[pattern]["metal"] = False
    # The family's largest sized type gives a metal type's vCPUs when no source has them.
    fam_max = {}
    for n in limits:
        if ".metal" not in n:
            v = gp.get(n, {}).get("vcpus") or vcpu_src.get(n) or size_rule_vcpus(n, {})
            if v:
                fam_max[n.split(".")[0]] = max(fam_max.get(n.split(".")[0], 0), v)
    rows, skipped, rule_checked, rule_wrong = [], [], 0, []
    for name in sorted(limits):
        lim, g = limits[name], gp.get(name, {})
        base = baseline.get(name, g.get("baseline_mbps"))
        rule = size_rule_vcpus(name, fam_max)
        ov = overlay_value(overlay, name, "vcpus")
        vcpus = g.get("vcpus") or vcpu_src.get(name) or (int(ov) if ov else None)
        if g.get("vcpus"):
            vsrc = "gp.html"
        elif name in vcpu_src:
            vsrc = "describe-instance-types"
        else:
            vsrc = "overlay" if ov else "size rule"
        if vcpus and rule:
            rule_checked += 1
            if rule != vcpus:
                rule_wrong.append(name)
        vcpus = vcpus or rule
        if base is None or not vcpus:
            skipped.append(name)
            continue
        burst = overlay_value(overlay, name, "bandwidth_mbps")
        burst = max(int(burst), base) if burst else g.get("bandwidth_mbps", base)
        for k in ("network_cards", "max_enis", "ipv4_per_eni"):
            if k in g and g[k] != lim[k]:
                print(f"note: {name} {k}: gp.html {g[k]}, DescribeInstanceTypes {lim[k]} (kept)", file=sys.stderr)

        def flag(field):
            o = overlay_value(overlay, name, field)
            if o is not None:
                if field in g and g[field] != (o == "true"):
                    print(f"note: {name} {field}: gp.html {g[field]}, overlay {o} (overlay kept)", file=sys.stderr)
                return o == "true"
            return g.get(field, False)

        queues = overlay_value(overlay, name, "ena_queues")
        rows.append(
            [
                name,
                vcpus,
                base,
                burst,
                lim["network_cards"],
                lim["max_enis"],
                lim["ipv4_per_eni"],
                int(queues) if queues else min(vcpus, QUEUES_PER_ENI_RULE),
                str(flag("efa")).lower(),
                str(flag("ena_express")).lower(),
                overlay_value(overlay, name, "efa_rdma") or "none",
                vsrc,
            ]
        )
    print(f"{len(rows)} types written; skipped (no baseline or vCPUs): {' '.join(skipped)}", file=sys.stderr)
    print(f"vCPU size rule checked on {rule_checked} sourced types, wrong on {len(rule_wrong)}: {' '.join(rule_wrong)}", file=sys.stderr)
    out = csv.writer(sys.stdout, lineterminator="\n")
    sys.stdout.write(HEADER)
    out.writerow(
        [
            "name",
            "vcpus",
            "baseline_mbps",
            "bandwidth_mbps",
            "network_cards",
            "max_enis",
            "ipv4_per_eni",
            "ena_queues",
            "efa",
            "ena_express",
            "efa_rdma",
            "vcpus_from",
        ]
    )
    out.writerows(rows)


HEADER = """\
# nitrosim instance-type catalog: one row per current Nitro instance type. GENERATED by
# src/ec2/catalog/regenerate.py (see its docstring); do not edit by hand: edit overlay.csv and regenerate.
# Sources (copied 2026-11-30):
#   aws/karpenter-provider-aws@1d927085dd81a9df9301e613f371dac5b4d16bfe
#     pkg/providers/instancetype/zz_generated.vpclimits.go (DescribeInstanceTypes, generated 2026-08-06):
#       max_enis, ipv4_per_eni, network_cards, which types are Nitro
#     pkg/providers/instancetype/zz_generated.bandwidth.go (EC2 instance-types docs): baseline_mbps
#     hack/code/bandwidth_gen/example/gp.html (docs.aws.amazon.com/ec2/latest/instancetypes/gp.html,
#       copy of 2024-05-05): vcpus, burst bandwidth_mbps, efa, ena_express of general-purpose types
#   infracost/infracost@95ba4f49a7abf5567b04f751a115543281a4ab18 internal/resources/aws/util.go
#     (describe-instance-types DefaultVCpus): vcpus of other types
#   overlay.csv: burst figures, EFA, ENA Express and EFA RDMA the sources lack, each with its source
# Rules (model choices): ena_queues = min(vcpus, 32) unless the overlay says; vcpus by the size name
# (vcpus_from = "size rule") where no source has them; bandwidth_mbps = baseline where no burst is known.
"""

if __name__ == "__main__":
    main()
