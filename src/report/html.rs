//! `report.html`: one self-contained page per run or sweep, to forward, project or print. Plots
//! are inline SVG (hover a point for its value: SVG `<title>`, no script needed), tables sort on
//! a click (a few lines of script), nothing is fetched from anywhere. Colours come from the
//! Okabe-Ito palette and text stays dark on light for contrast.
//!
//! A short script also writes a self-check into `<pre id="selfcheck">` once the page has loaded
//! (plots drawn with their sizes, table rows, script errors): the browser test reads it back.

use super::summary::Summary;
use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#1a1a1a;background:#fff;margin:0 auto;max-width:1100px;padding:0 16px 48px;line-height:1.45}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:2px solid #0072B2;padding-bottom:2px;margin-top:1.6em}h3{margin-bottom:.3em}
.desc{font-size:1.15em}.meta{color:#444}nav a{margin-right:1em;color:#0b5394}
table{border-collapse:collapse;margin:.5em 0;font-size:.92em}th,td{border:1px solid #bbb;padding:3px 8px;text-align:right}
th{background:#e8eef4;cursor:pointer;user-select:none}th:first-child,td:first-child{text-align:left}
th[aria-sort=ascending]::after{content:" \25B2"}th[aria-sort=descending]::after{content:" \25BC"}
.up{color:#9e3a00}.down{color:#005a8c}.warn{background:#fff3cd;border-left:4px solid #E69F00;padding:4px 8px}
figure{margin:1em 0}figure svg{max-width:100%;height:auto;border:1px solid #ddd}figcaption{color:#444}
.ladder-wrap{overflow-x:auto}.ladder-wrap svg{max-width:none;border:1px solid #ddd}
pre{background:#f6f6f6;padding:8px;overflow-x:auto;font-size:.85em}details{margin:.6em 0}summary{font-weight:bold;cursor:pointer}
#selfcheck{display:none}
"#;

/// Sortable tables and the self-check. Kept tiny and dependency-free.
const SCRIPT: &str = r#"
var errs=[];window.addEventListener('error',function(e){errs.push(String(e.message))});
function cell(r,i){var c=r.cells[i];if(!c)return'';var v=c.getAttribute('data-v');return v!==null?v:c.textContent.trim()}
document.querySelectorAll('table.sortable').forEach(function(t){t.querySelectorAll('th').forEach(function(th,i){
th.tabIndex=0;function go(){var asc=th.getAttribute('aria-sort')!=='ascending';t.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});
th.setAttribute('aria-sort',asc?'ascending':'descending');var b=t.tBodies[0],rows=Array.prototype.slice.call(b.rows);
rows.sort(function(x,y){var p=cell(x,i),q=cell(y,i),a=parseFloat(p),c=parseFloat(q);
var r=(!isNaN(a)&&!isNaN(c))?a-c:p.localeCompare(q);return asc?r:-r});rows.forEach(function(r){b.appendChild(r)})}
th.addEventListener('click',go);th.addEventListener('keydown',function(e){if(e.key==='Enter')go()})})});
window.addEventListener('load',function(){var plots=[];document.querySelectorAll('figure svg').forEach(function(s){var r=s.getBoundingClientRect();
plots.push({id:s.closest('figure').id,width:Math.round(r.width),height:Math.round(r.height)})});var tables={};
document.querySelectorAll('table[id]').forEach(function(t){tables[t.id]=t.tBodies[0]?t.tBodies[0].rows.length:0});
document.getElementById('selfcheck').textContent=JSON.stringify({ok:errs.length===0,errors:errs,plots:plots,tables:tables})});
"#;

pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn page_start(o: &mut String, title: &str) {
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style></head><body>\n",
        esc(title)
    );
}

fn page_end(o: &mut String) {
    let _ = write!(o, "<pre id=\"selfcheck\"></pre>\n<script>{SCRIPT}</script>\n</body></html>\n");
}

/// An SVG file's text, ready to inline (no XML prolog).
fn inline_svg(svg: &str) -> &str {
    match svg.find("<svg") {
        Some(i) => &svg[i..],
        None => svg,
    }
}

fn num(x: f64) -> String {
    // Never "-0.0"; integers plain; small values with enough digits.
    let x = if x == 0.0 { 0.0 } else { x };
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.3}")
    }
}

fn td_num(o: &mut String, x: f64) {
    let x = if x == 0.0 { 0.0 } else { x };
    let _ = write!(o, "<td data-v=\"{x}\">{}</td>", num(x));
}

/// A table with a header row and a body, sortable on a click.
fn table(o: &mut String, id: &str, caption: &str, head: &[&str], rows: &[Vec<String>]) {
    let _ = write!(o, "<table class=\"sortable\" id=\"{id}\"><caption>{}</caption><thead><tr>", esc(caption));
    for h in head {
        let _ = write!(o, "<th scope=\"col\">{}</th>", esc(h));
    }
    o.push_str("</tr></thead><tbody>\n");
    for r in rows {
        o.push_str("<tr>");
        for c in r {
            // Cells are pre-rendered: either "<td ...>" markup or plain text.
            if c.starts_with("<td") {
                o.push_str(c);
            } else {
                let _ = write!(o, "<td>{}</td>", esc(c));
            }
        }
        o.push_str("</tr>\n");
    }
    o.push_str("</tbody></table>\n");
}

fn num_cell(x: f64) -> String {
    let mut s = String::new();
    td_num(&mut s, x);
    s
}

/// A value with its change against a baseline, e.g. "812.4 (-35%)".
fn change_cell(x: f64, base: Option<f64>) -> String {
    let x = if x == 0.0 { 0.0 } else { x };
    match base {
        Some(b) if b != 0.0 => {
            let pct = (x / b - 1.0) * 100.0;
            let class = if pct > 0.5 {
                "up"
            } else if pct < -0.5 {
                "down"
            } else {
                ""
            };
            format!("<td data-v=\"{x}\">{} <span class=\"{class}\">({pct:+.0}%)</span></td>", num(x))
        }
        _ => num_cell(x),
    }
}

/// The fastest bulk flow's goodput: what "single-flow throughput" means to a user.
pub fn best_bulk_goodput(v: &crate::model::VariantResult) -> Option<f64> {
    v.flows.iter().filter(|f| f.kind == "bulk").map(|f| f.goodput_gbps).reduce(f64::max)
}

fn comparison(o: &mut String, s: &Summary) {
    let any_rpc = s.variants.iter().any(|v| v.workloads.rpc.is_some());
    let mut rows = Vec::new();
    for (i, v) in s.variants.iter().enumerate() {
        let b = &s.variants[s.baseline_of(i)];
        let is_base = std::ptr::eq(v, b);
        let base = |f: &dyn Fn(&crate::model::VariantResult) -> Option<f64>| if is_base { None } else { f(b) };
        let mut r = vec![v.name.clone(), if is_base { "(baseline)".into() } else { b.name.clone() }];
        for q in 0..if any_rpc { 4 } else { 0 } {
            let pick = move |x: &crate::model::VariantResult| {
                x.workloads
                    .rpc
                    .as_ref()
                    .map(|r| [r.latency_us.p50, r.latency_us.p99, r.latency_us.p999, r.latency_us.p9999][q])
            };
            r.push(match pick(v) {
                Some(x) => change_cell(x, base(&pick)),
                None => "-".into(),
            });
        }
        r.push(match best_bulk_goodput(v) {
            Some(x) => change_cell(x, base(&best_bulk_goodput)),
            None => "-".into(),
        });
        r.push(change_cell(v.throughput.goodput_gbps, base(&|x| Some(x.throughput.goodput_gbps))));
        r.push(num_cell(v.throughput.wire_gbps));
        r.push(num_cell(v.flows.iter().map(|f| f.retransmits as f64).sum()));
        r.push(num_cell(v.packets.dropped as f64));
        rows.push(r);
    }
    let mut head = vec!["variant", "compared with"];
    if any_rpc {
        head.extend(["RPC p50 (us)", "RPC p99 (us)", "RPC p99.9 (us)", "RPC p99.99 (us)"]);
    }
    head.extend([
        "fastest bulk flow, goodput (Gbps)",
        "all flows, goodput (Gbps)",
        "all flows, wire rate (Gbps)",
        "retransmissions",
        "packets dropped",
    ]);
    table(
        o,
        "compare",
        "Each variant against its baseline (the variant's `baseline`, else the first variant)",
        &head,
        &rows,
    );
}

/// A JSON object of numbers (or of objects of numbers) as a table; None when empty.
fn value_table(o: &mut String, id: &str, caption: &str, v: &Value, first: &str) {
    match v {
        Value::Object(m) if m.values().all(|x| x.is_object()) && !m.is_empty() => {
            // Rows: keys; columns: every field any row has that is not zero everywhere.
            let mut cols: Vec<String> = Vec::new();
            for x in m.values() {
                for (k, y) in x.as_object().expect("checked") {
                    if !cols.contains(k) && (y.as_f64().is_some_and(|f| f != 0.0) || y.is_string() || y.is_boolean()) {
                        cols.push(k.clone());
                    }
                }
            }
            let rows: Vec<Vec<String>> = m
                .iter()
                .take(64)
                .map(|(k, x)| {
                    let mut r = vec![k.clone()];
                    for c in &cols {
                        r.push(cell_of(x.get(c)));
                    }
                    r
                })
                .collect();
            let mut head = vec![first];
            head.extend(cols.iter().map(String::as_str));
            table(o, id, caption, &head, &rows);
        }
        Value::Object(m) if !m.is_empty() => {
            let rows: Vec<Vec<String>> = m.iter().map(|(k, x)| vec![k.clone(), cell_of(Some(x))]).collect();
            table(o, id, caption, &[first, "value"], &rows);
        }
        _ => {}
    }
}

fn cell_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => num_cell(n.as_f64().unwrap_or(0.0)),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Null) | None => "".into(),
        Some(other) => other.to_string(),
    }
}

fn variant_details(o: &mut String, s: &Summary) {
    for (i, v) in s.variants.iter().enumerate() {
        let id = format!("v{i}");
        let _ = writeln!(o, "<details id=\"{id}\" open><summary>variant {}</summary>", esc(&v.name));
        for w in &v.warnings {
            let _ = writeln!(o, "<p class=\"warn\">warning: {}</p>", esc(w));
        }
        let p = &v.packets;
        let _ = writeln!(
            o,
            "<p>{} us simulated, {} events. Packets: sent {} = delivered {} + dropped {} + in flight {}{}.</p>",
            num(v.simulated_us),
            v.events_processed,
            p.sent,
            p.delivered,
            p.dropped,
            p.in_flight,
            if p.fragmented > 0 { format!(" (+ {} fragmented)", p.fragmented) } else { String::new() }
        );
        if !v.flows.is_empty() {
            let rows: Vec<Vec<String>> = v
                .flows
                .iter()
                .take(200)
                .map(|f| {
                    vec![
                        f.name.clone(),
                        f.workload.clone(),
                        f.kind.to_string(),
                        num_cell(f.goodput_gbps),
                        num_cell(f.wire_gbps),
                        num_cell(f.retransmits as f64),
                        num_cell(f.rtos as f64),
                        if f.aborted { "aborted".into() } else { "".into() },
                    ]
                })
                .collect();
            let cap = if v.flows.len() > 200 {
                format!("Flows (the first 200 of {})", v.flows.len())
            } else {
                "Flows".to_string()
            };
            table(
                o,
                &format!("{id}-flows"),
                &cap,
                &["flow", "workload", "kind", "goodput (Gbps)", "wire rate (Gbps)", "retransmissions", "RTOs", ""],
                &rows,
            );
        }
        if let Some(r) = &v.workloads.rpc {
            let l = &r.latency_us;
            let rows = vec![vec![
                num_cell(r.count as f64),
                num_cell(l.p50),
                num_cell(l.p90),
                num_cell(l.p99),
                num_cell(l.p999),
                num_cell(l.p9999),
                num_cell(l.max),
            ]];
            let mut rows = rows;
            rows[0][0] = format!("{} RPCs", r.count);
            table(
                o,
                &format!("{id}-rpc"),
                "RPC latency (us)",
                &["measured", "p50", "p90", "p99", "p99.9", "p99.99", "max"],
                &rows,
            );
        }
        if !v.drops.is_empty() {
            let rows: Vec<Vec<String>> =
                v.drops.iter().map(|(k, n)| vec![k.to_string(), num_cell(*n as f64)]).collect();
            table(o, &format!("{id}-drops"), "Drops by reason", &["reason", "packets"], &rows);
        }
        if !v.filter_drops.is_empty() {
            let rows: Vec<Vec<String>> =
                v.filter_drops.iter().map(|(k, n)| vec![k.clone(), num_cell(*n as f64)]).collect();
            table(o, &format!("{id}-rules"), "Packets refused, by rule", &["rule", "packets"], &rows);
        }
        let json = serde_json::to_value(v).unwrap_or(Value::Null);
        value_table(
            o,
            &format!("{id}-counters"),
            "ENA-style counters per instance (non-zero columns)",
            &json["counters"],
            "instance",
        );
        if let Some(srd) = json.get("srd").filter(|x| !x.is_null()) {
            value_table(o, &format!("{id}-srd"), "SRD", srd, "field");
        }
        if let Some(ip) = json.get("ip").and_then(Value::as_object)
            && ip.values().any(|x| x.as_f64().is_some_and(|f| f != 0.0))
        {
            value_table(o, &format!("{id}-ip"), "IP layer (fragmentation, ICMP, PMTUD)", &json["ip"], "counter");
        }
        for key in ["datagrams", "background", "permutation", "fabric"] {
            if let Some(x) = json.get(key).filter(|x| x.is_object()) {
                let flat: serde_json::Map<String, Value> = x
                    .as_object()
                    .expect("checked")
                    .iter()
                    .filter(|(_, y)| !y.is_object() && !y.is_array())
                    .map(|(k, y)| (k.clone(), y.clone()))
                    .collect();
                value_table(o, &format!("{id}-{key}"), key, &Value::Object(flat), "field");
            }
        }
        if !v.workloads.service_clients.is_empty() {
            let rows: Vec<Vec<String>> = v
                .workloads
                .service_clients
                .iter()
                .map(|c| {
                    vec![
                        c.workload.clone(),
                        c.client.clone(),
                        num_cell(c.requests_ok as f64),
                        num_cell(c.outage_ms / 1e3),
                        num_cell(c.timeouts as f64),
                        num_cell(c.resets as f64),
                    ]
                })
                .collect();
            table(
                o,
                &format!("{id}-clients"),
                "Service clients",
                &["workload", "client", "responses", "outage (s)", "timeouts", "resets"],
                &rows,
            );
        }
        o.push_str("</details>\n");
    }
}

/// The page for one run: description, comparison, plots, ladders, details, check, scenario.
pub fn run_report(s: &Summary, plots: &[(String, String)], ladders: &[(String, String)]) -> String {
    let mut o = String::new();
    page_start(&mut o, &format!("nitrosim: {}", s.scenario));
    let ctx = s.context.clone().unwrap_or_default();
    let _ = writeln!(o, "<header><h1>{}</h1>", esc(&s.scenario));
    if !ctx.description.is_empty() {
        let _ = writeln!(o, "<p class=\"desc\">{}</p>", esc(&ctx.description));
    }
    let _ = writeln!(
        o,
        "<p class=\"meta\">nitrosim {} &middot; seed {} &middot; {}{}</p></header>",
        esc(s.nitrosim_version),
        s.seed,
        esc(&ctx.file),
        if ctx.sets.is_empty() {
            String::new()
        } else {
            format!(" &middot; {}", esc(&ctx.sets.iter().map(|x| format!("--set {x}")).collect::<Vec<_>>().join(" ")))
        }
    );
    o.push_str("<nav><a href=\"#compare-h\">side by side</a><a href=\"#plots\">plots</a>");
    if !ladders.is_empty() {
        o.push_str("<a href=\"#ladders\">ladder diagrams</a>");
    }
    o.push_str(
        "<a href=\"#variants\">variants</a><a href=\"#check\">check</a><a href=\"#scenario\">scenario</a></nav>\n",
    );
    o.push_str("<h2 id=\"compare-h\">Side by side</h2>\n");
    comparison(&mut o, s);
    o.push_str("<p>Goodput counts payload delivered to the application; wire rate counts every byte sent, headers and retransmissions included. Click a column to sort.</p>\n");
    o.push_str("<h2 id=\"plots\">Plots</h2>\n");
    if plots.is_empty() {
        o.push_str("<p>This scenario has nothing to plot.</p>\n");
    }
    for (name, svg) in plots {
        let stem = name.trim_end_matches(".svg");
        let _ = writeln!(
            o,
            "<figure id=\"plot-{stem}\">{}<figcaption>{stem} (also {stem}.svg and {stem}.png beside this page). Hover a point for its value.</figcaption></figure>",
            inline_svg(svg)
        );
    }
    if !ladders.is_empty() {
        o.push_str("<h2 id=\"ladders\">Ladder diagrams</h2>\n<p>Each packet of the flow, as the capture points saw it (the same records as <code>--pcap</code> writes). A cross marks a drop, with its reason and rule; dots mark RTOs (purple) and MSS changes (orange). Hover a packet for its times.</p>\n");
        for (variant, svg) in ladders {
            let _ = writeln!(
                o,
                "<figure id=\"ladder-{}\"><div class=\"ladder-wrap\">{}</div><figcaption>{}</figcaption></figure>",
                esc(variant),
                inline_svg(svg),
                esc(variant)
            );
        }
    }
    o.push_str("<h2 id=\"variants\">Variants</h2>\n");
    variant_details(&mut o, s);
    o.push_str("<h2 id=\"check\">What <code>nitrosim check</code> says</h2>\n");
    if ctx.checks.is_empty() {
        o.push_str("<p>Not available for this run.</p>\n");
    }
    for c in &ctx.checks {
        let _ = writeln!(o, "<pre>{}</pre>", esc(c));
    }
    o.push_str("<h2 id=\"scenario\">The scenario as run</h2>\n");
    let _ = writeln!(o, "<pre>{}</pre>", esc(&ctx.scenario_text));
    page_end(&mut o);
    o
}

/// The page for a sweep: the grid, each metric with its confidence band, the points' table.
pub fn sweep_report(
    spec: &crate::scenario::ScenarioSpec,
    grid: &super::sweep_data::SweepAxes,
    table_data: &super::sweep_data::SweepTable,
    runs_present: usize,
    plots: &[(String, String)],
    metrics: &[String],
) -> String {
    let mut o = String::new();
    page_start(&mut o, &format!("nitrosim sweep: {}", spec.name));
    let _ = writeln!(o, "<header><h1>Sweep: {}</h1>", esc(&spec.name));
    if !spec.description.is_empty() {
        let _ = writeln!(o, "<p class=\"desc\">{}</p>", esc(&spec.description));
    }
    let _ = writeln!(
        o,
        "<p class=\"meta\">nitrosim {} &middot; sweep {} &middot; {} points x {} seeds = {} runs, {} present</p></header>",
        env!("CARGO_PKG_VERSION"),
        esc(&grid.hash),
        grid.points,
        grid.seeds,
        grid.runs_total,
        runs_present
    );
    o.push_str("<h2 id=\"grid\">The grid</h2>\n");
    let rows: Vec<Vec<String>> = grid
        .paths
        .iter()
        .zip(&grid.values)
        .zip(&grid.log_scale)
        .map(|((p, v), log)| vec![p.clone(), v.join(", "), if *log { "log".into() } else { "linear".into() }])
        .collect();
    table(&mut o, "grid", "Parameters (the first is the x axis)", &["parameter", "values", "axis"], &rows);
    o.push_str("<h2 id=\"plots\">Metrics (mean, 95% confidence band)</h2>\n");
    for (name, svg) in plots {
        let stem = name.trim_end_matches(".svg");
        let _ = writeln!(o, "<figure id=\"plot-{stem}\">{}<figcaption>{stem}</figcaption></figure>", inline_svg(svg));
    }
    o.push_str("<h2 id=\"points\">Points</h2>\n");
    let mut head: Vec<&str> = vec!["point"];
    head.extend(grid.paths.iter().map(String::as_str));
    head.extend(["variant", "metric", "n", "mean", "95% CI low", "95% CI high"]);
    let rows: Vec<Vec<String>> = table_data
        .iter()
        .filter(|((_, _, m), _)| metrics.contains(m))
        .map(|((point, variant, metric), st)| {
            let mut r = vec![point.to_string()];
            r.extend(grid.point_values(*point).iter().cloned());
            r.extend([variant.clone(), metric.clone(), num_cell(st.n as f64)]);
            r.extend([num_cell(st.mean), num_cell(st.mean - st.ci95), num_cell(st.mean + st.ci95)]);
            r
        })
        .collect();
    table(&mut o, "points", "Every point of the plotted metrics (all metrics: aggregate.csv)", &head, &rows);
    o.push_str("<h2 id=\"scenario\">The scenario</h2>\n");
    let text = ron::ser::to_string_pretty(spec, ron::ser::PrettyConfig::default()).unwrap_or_default();
    let _ = writeln!(o, "<pre>{}</pre>", esc(&text));
    page_end(&mut o);
    o
}
