//! Drawing a ladder: one list of shapes laid out once, written as SVG (text, with hover
//! titles) or rasterised to PNG, so both show the same figure.

use super::*;

/// Okabe-Ito colours (distinct for colour-blind readers); text stays near-black for contrast.
const C_SYN: &str = "#000000";
const C_DATA: &str = "#0072B2";
const C_ACK: &str = "#009E73";
const C_ICMP: &str = "#D55E00";
const C_DROP: &str = "#D55E00";
const C_RTO: &str = "#CC79A7";
const C_MSS: &str = "#E69F00";
const C_TEXT: &str = "#1a1a1a";
const C_MUTED: &str = "#555555";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Anchor {
    Start,
    Middle,
    End,
}

#[derive(Clone, Debug, PartialEq)]
enum Shape {
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        color: &'static str,
        width: f64,
        dash: bool,
    },
    /// A filled arrowhead at (x, y) pointing along (dx, dy).
    Head {
        x: f64,
        y: f64,
        dx: f64,
        dy: f64,
        color: &'static str,
    },
    Cross {
        x: f64,
        y: f64,
        color: &'static str,
    },
    Dot {
        x: f64,
        y: f64,
        color: &'static str,
    },
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &'static str,
    },
    Text {
        x: f64,
        y: f64,
        text: String,
        size: u32,
        anchor: Anchor,
        color: &'static str,
        bold: bool,
    },
    /// Shapes that share a hover text.
    Group {
        title: String,
        shapes: Vec<Shape>,
    },
}

const LEFT: f64 = 110.0;
const SPACING: f64 = 320.0;
const TOP: f64 = 84.0;
const RIGHT: f64 = 330.0;
const ROW: f64 = 17.0;

fn layout(l: &Ladder) -> (f64, f64, Vec<Shape>) {
    let n = l.lifelines.len();
    let width = LEFT + SPACING * (n - 1) as f64 + RIGHT;
    let x_of = |li: f64| LEFT + 40.0 + SPACING * li;
    // Every instant that carries something, with the labelled items (packets leaving, drops,
    // notes) starting then: each of those gets a row of its own, even at one instant.
    let mut times: BTreeMap<i64, usize> = BTreeMap::new();
    let k = |t: f64| (t * 1000.0).round() as i64;
    let slot = |times: &mut BTreeMap<i64, usize>, t: f64, labelled: bool| {
        let c = times.entry(k(t)).or_default();
        if labelled {
            *c += 1;
        }
        c.saturating_sub(1)
    };
    let mut arrow_slots = Vec::with_capacity(l.arrows.len());
    for a in &l.arrows {
        arrow_slots.push(slot(&mut times, a.hops[0].1, true));
        for h in &a.hops[1..] {
            slot(&mut times, h.1, false);
        }
        if let Some(d) = &a.drop {
            slot(&mut times, d.time_us, false);
        }
    }
    let note_slots: Vec<usize> = l.notes.iter().map(|n| slot(&mut times, n.time_us, true)).collect();
    // Scale: a typical hop takes ~24 px; longer quiet stretches are compressed.
    let mut hop_us: Vec<f64> =
        l.arrows.iter().flat_map(|a| a.hops.windows(2).map(|w| w[1].1 - w[0].1)).filter(|d| *d > 0.0).collect();
    hop_us.sort_by(f64::total_cmp);
    let px_per_us = hop_us.get(hop_us.len() / 2).map_or(1.0, |m| 24.0 / m);
    let range_us = times.keys().last().map_or(0.0, |t| *t as f64 / 1000.0) - l.window_us.0;
    let mut y_of: BTreeMap<i64, f64> = BTreeMap::new();
    let mut gaps: Vec<(f64, f64, f64)> = Vec::new();
    let (mut y, mut last_label_y, mut prev) = (TOP, f64::MIN, None::<i64>);
    for (&t, &labelled) in &times {
        if let Some(p) = prev {
            let dt_us = (t - p) as f64 / 1000.0;
            let lin = dt_us * px_per_us;
            if lin > 90.0 {
                gaps.push((y, y + 40.0, dt_us));
                y += 40.0;
            } else {
                y += lin;
            }
        }
        if labelled > 0 {
            y = y.max(last_label_y + ROW);
        }
        y_of.insert(t, y);
        if labelled > 0 {
            y += ROW * (labelled - 1) as f64;
            last_label_y = y;
        }
        prev = Some(t);
    }
    let height = y + 60.0;
    let yt = |t: f64| y_of.get(&k(t)).copied().unwrap_or(TOP);
    let mut shapes = Vec::new();
    shapes.push(Shape::Rect { x: 0.0, y: 0.0, w: width, h: height, fill: "#ffffff" });
    shapes.push(Shape::Text {
        x: 12.0,
        y: 22.0,
        text: format!("{} ({}): flow {}", l.variant, l.lifelines.join(" / "), l.flow),
        size: 15,
        anchor: Anchor::Start,
        color: C_TEXT,
        bold: true,
    });
    shapes.push(Shape::Text {
        x: 12.0,
        y: 40.0,
        text: format!(
            "{} packets from {} to {}{}; time flows down, quiet stretches compressed",
            l.arrows.len(),
            fmt_time_us(l.window_us.0, l.window_us.1),
            fmt_time_us(l.window_us.1, l.window_us.1),
            if l.omitted > 0 { format!(" ({} more not drawn)", l.omitted) } else { String::new() }
        ),
        size: 11,
        anchor: Anchor::Start,
        color: C_MUTED,
        bold: false,
    });
    // Lifelines: solid, dotted across compressed gaps.
    for (i, name) in l.lifelines.iter().enumerate() {
        let x = x_of(i as f64);
        shapes.push(Shape::Rect { x: x - 50.0, y: TOP - 30.0, w: 100.0, h: 20.0, fill: "#e8eef4" });
        shapes.push(Shape::Text {
            x,
            y: TOP - 16.0,
            text: name.clone(),
            size: 13,
            anchor: Anchor::Middle,
            color: C_TEXT,
            bold: true,
        });
        let mut y0 = TOP - 8.0;
        for &(g0, g1, _) in &gaps {
            shapes.push(Shape::Line { x1: x, y1: y0, x2: x, y2: g0 + 6.0, color: "#888888", width: 1.0, dash: false });
            shapes.push(Shape::Line {
                x1: x,
                y1: g0 + 6.0,
                x2: x,
                y2: g1 - 6.0,
                color: "#888888",
                width: 1.0,
                dash: true,
            });
            y0 = g1 - 6.0;
        }
        shapes.push(Shape::Line { x1: x, y1: y0, x2: x, y2: height - 30.0, color: "#888888", width: 1.0, dash: false });
    }
    for &(g0, g1, dt) in &gaps {
        shapes.push(Shape::Rect { x: 4.0, y: g0 + 8.0, w: width - 8.0, h: g1 - g0 - 16.0, fill: "#f3f3f3" });
        shapes.push(Shape::Text {
            x: 12.0,
            y: (g0 + g1) / 2.0 + 4.0,
            text: format!("... {} later ...", fmt_time_us(dt, dt.max(range_us.min(dt * 100.0)))),
            size: 11,
            anchor: Anchor::Start,
            color: C_MUTED,
            bold: false,
        });
    }
    let mut labelled_rows: BTreeMap<i64, ()> = BTreeMap::new();
    let mut time_label = |shapes: &mut Vec<Shape>, t: f64, y: f64| {
        if labelled_rows.insert(k(t), ()).is_none() {
            shapes.push(Shape::Text {
                x: LEFT - 8.0,
                y: y + 4.0,
                text: fmt_time_us(t, range_us),
                size: 10,
                anchor: Anchor::End,
                color: C_MUTED,
                bold: false,
            });
        }
    };
    for (a, &j) in l.arrows.iter().zip(&arrow_slots) {
        let (color, width, dash) = match a.kind {
            ArrowKind::Syn | ArrowKind::SynAck => (C_SYN, 1.6, false),
            ArrowKind::Data | ArrowKind::Datagram => (C_DATA, if a.retransmit { 2.4 } else { 1.6 }, false),
            ArrowKind::Ack => (C_ACK, 1.2, true),
            ArrowKind::IcmpFragNeeded => (C_ICMP, 2.2, false),
        };
        let mut g = Vec::new();
        let mut pts: Vec<(f64, f64)> = a.hops.iter().map(|&(li, t)| (x_of(li as f64), yt(t))).collect();
        pts[0].1 += ROW * j as f64;
        if let Some(d) = &a.drop
            && (x_of(d.lifeline) - pts.last().expect("hops").0).abs() > 0.5
        {
            pts.push((x_of(d.lifeline), yt(d.time_us)));
        }
        for w in pts.windows(2) {
            let ((x1, y1), (x2, y2)) = (w[0], w[1]);
            g.push(Shape::Line { x1, y1, x2, y2, color, width, dash });
            g.push(Shape::Head { x: x2, y: y2, dx: x2 - x1, dy: y2 - y1, color });
        }
        let (x0, y0) = pts[0];
        let dir = if pts.len() > 1 && pts[1].0 < x0 { -1.0 } else { 1.0 };
        let anchor = if dir > 0.0 { Anchor::Start } else { Anchor::End };
        g.push(Shape::Text {
            x: x0 + 8.0 * dir,
            y: y0 - 3.0,
            text: a.label.clone(),
            size: 11,
            anchor,
            color: C_TEXT,
            bold: false,
        });
        let mut title = format!("{} at {}", a.label, fmt_time_us(a.hops[0].1, range_us));
        for &(li, t) in &a.hops[1..] {
            let _ = write!(title, "; {} at {}", l.lifelines[li], fmt_time_us(t, range_us));
        }
        if let Some(d) = &a.drop {
            let (x, y) = (x_of(d.lifeline), yt(d.time_us));
            g.push(Shape::Cross { x, y, color: C_DROP });
            let why = match &d.rule {
                Some(r) => format!("dropped: {} ({r})", d.reason),
                None => format!("dropped: {}", d.reason),
            };
            let _ = write!(title, "; {why}");
            let right = d.lifeline < (l.lifelines.len() - 1) as f64 || dir < 0.0;
            g.push(Shape::Text {
                x: if right { x + 10.0 } else { x - 10.0 },
                y: y + 13.0,
                text: why,
                size: 10,
                anchor: if right { Anchor::Start } else { Anchor::End },
                color: "#9e3a00",
                bold: true,
            });
        }
        time_label(&mut g, a.hops[0].1, pts[0].1);
        shapes.push(Shape::Group { title, shapes: g });
    }
    for (note, &j) in l.notes.iter().zip(&note_slots) {
        let (x, y) = (x_of(note.lifeline as f64), yt(note.time_us) + ROW * j as f64);
        let color = if note.event == "rto" || note.event == "aborted" { C_RTO } else { C_MSS };
        let right = note.lifeline + 1 < l.lifelines.len();
        let mut g = vec![Shape::Dot { x, y, color }];
        g.push(Shape::Text {
            x: if right { x + 10.0 } else { x - 10.0 },
            y: y + 4.0,
            text: note.text.clone(),
            size: 11,
            anchor: if right { Anchor::Start } else { Anchor::End },
            color: C_TEXT,
            bold: true,
        });
        time_label(&mut g, note.time_us, y);
        shapes.push(Shape::Group {
            title: format!("{} at {}", note.text, fmt_time_us(note.time_us, range_us)),
            shapes: g,
        });
    }
    (width, height, shapes)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn head_points(x: f64, y: f64, dx: f64, dy: f64) -> [(f64, f64); 3] {
    let len = (dx * dx + dy * dy).sqrt().max(1e-9);
    let (ux, uy) = (dx / len, dy / len);
    let (bx, by) = (x - ux * 9.0, y - uy * 9.0);
    [(x, y), (bx - uy * 4.0, by + ux * 4.0), (bx + uy * 4.0, by - ux * 4.0)]
}

fn svg_shape(o: &mut String, s: &Shape) {
    match s {
        Shape::Line { x1, y1, x2, y2, color, width, dash } => {
            let _ = writeln!(
                o,
                r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{color}" stroke-width="{width}"{}/>"#,
                if *dash { r#" stroke-dasharray="5 3""# } else { "" }
            );
        }
        Shape::Head { x, y, dx, dy, color } => {
            let p = head_points(*x, *y, *dx, *dy);
            let _ = writeln!(
                o,
                r#"<polygon points="{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}" fill="{color}"/>"#,
                p[0].0, p[0].1, p[1].0, p[1].1, p[2].0, p[2].1
            );
        }
        Shape::Cross { x, y, color } => {
            let _ = writeln!(
                o,
                r#"<path d="M{:.1},{:.1}L{:.1},{:.1}M{:.1},{:.1}L{:.1},{:.1}" stroke="{color}" stroke-width="3"/>"#,
                x - 6.0,
                y - 6.0,
                x + 6.0,
                y + 6.0,
                x - 6.0,
                y + 6.0,
                x + 6.0,
                y - 6.0
            );
        }
        Shape::Dot { x, y, color } => {
            let _ = writeln!(
                o,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="5" fill="{color}" stroke="#000000" stroke-width="1"/>"##
            );
        }
        Shape::Rect { x, y, w, h, fill } => {
            let _ = writeln!(o, r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{fill}"/>"#);
        }
        Shape::Text { x, y, text, size, anchor, color, bold } => {
            let a = match anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let _ = writeln!(
                o,
                r#"<text x="{x:.1}" y="{y:.1}" font-size="{size}" text-anchor="{a}" fill="{color}"{}>{}</text>"#,
                if *bold { r#" font-weight="bold""# } else { "" },
                esc(text)
            );
        }
        Shape::Group { title, shapes } => {
            let _ = writeln!(o, "<g><title>{}</title>", esc(title));
            for s in shapes {
                svg_shape(o, s);
            }
            o.push_str("</g>\n");
        }
    }
}

/// The diagram as SVG text (stable, diffable; hover a packet for its details).
pub fn render_svg(l: &Ladder) -> String {
    let (w, h, shapes) = layout(l);
    let mut o = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0}" height="{h:.0}" viewBox="0 0 {w:.0} {h:.0}" font-family="DejaVu Sans, sans-serif" class="ladder">"#
    );
    o.push('\n');
    for s in &shapes {
        svg_shape(&mut o, s);
    }
    o.push_str("</svg>\n");
    o
}

/// The same diagram as PNG, drawn with plotters and the embedded font.
pub fn render_png(l: &Ladder) -> anyhow::Result<Vec<u8>> {
    use plotters::prelude::*;
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    crate::report::plot::register_font();
    let (w, h, shapes) = layout(l);
    let (w, h) = (w.ceil() as u32, h.ceil() as u32);
    let mut rgb = vec![255u8; (w * h * 3) as usize];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        let col = |c: &str| {
            let v = u32::from_str_radix(c.trim_start_matches('#'), 16).unwrap_or(0);
            RGBColor((v >> 16) as u8, (v >> 8) as u8, v as u8)
        };
        let p = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
        fn draw<DB: DrawingBackend>(
            area: &DrawingArea<DB, plotters::coord::Shift>,
            s: &Shape,
            col: &dyn Fn(&str) -> RGBColor,
            p: &dyn Fn(f64, f64) -> (i32, i32),
        ) -> anyhow::Result<()> {
            let e = |e| anyhow::anyhow!("drawing the ladder: {e:?}");
            match s {
                Shape::Line { x1, y1, x2, y2, color, width, dash } => {
                    let style = col(color).stroke_width(width.round().max(1.0) as u32);
                    if *dash {
                        let len = ((x2 - x1).powi(2) + (y2 - y1).powi(2)).sqrt();
                        let steps = (len / 8.0).ceil().max(1.0) as usize;
                        for i in 0..steps {
                            let (a, b) = (i as f64 / steps as f64, (i as f64 + 0.6) / steps as f64);
                            let (ax, ay) = (x1 + (x2 - x1) * a, y1 + (y2 - y1) * a);
                            let (bx, by) = (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b);
                            area.draw(&PathElement::new(vec![p(ax, ay), p(bx, by)], style)).map_err(e)?;
                        }
                    } else {
                        area.draw(&PathElement::new(vec![p(*x1, *y1), p(*x2, *y2)], style)).map_err(e)?;
                    }
                }
                Shape::Head { x, y, dx, dy, color } => {
                    let pts = head_points(*x, *y, *dx, *dy).iter().map(|q| p(q.0, q.1)).collect::<Vec<_>>();
                    area.draw(&Polygon::new(pts, col(color).filled())).map_err(e)?;
                }
                Shape::Cross { x, y, color } => {
                    let st = col(color).stroke_width(3);
                    area.draw(&PathElement::new(vec![p(x - 6.0, y - 6.0), p(x + 6.0, y + 6.0)], st)).map_err(e)?;
                    area.draw(&PathElement::new(vec![p(x - 6.0, y + 6.0), p(x + 6.0, y - 6.0)], st)).map_err(e)?;
                }
                Shape::Dot { x, y, color } => {
                    area.draw(&Circle::new(p(*x, *y), 5, col(color).filled())).map_err(e)?;
                    area.draw(&Circle::new(p(*x, *y), 5, BLACK.stroke_width(1))).map_err(e)?;
                }
                Shape::Rect { x, y, w, h, fill } => {
                    area.draw(&Rectangle::new([p(*x, *y), p(x + w, y + h)], col(fill).filled())).map_err(e)?;
                }
                Shape::Text { x, y, text, size, anchor, color, bold } => {
                    let h = match anchor {
                        Anchor::Start => HPos::Left,
                        Anchor::Middle => HPos::Center,
                        Anchor::End => HPos::Right,
                    };
                    let _ = bold;
                    let font =
                        ("sans-serif", *size as f64).into_font().color(&col(color)).pos(Pos::new(h, VPos::Bottom));
                    area.draw(&Text::new(text.clone(), p(*x, *y + 2.0), font)).map_err(e)?;
                }
                Shape::Group { shapes, .. } => {
                    for s in shapes {
                        draw(area, s, col, p)?;
                    }
                }
            }
            Ok(())
        }
        for s in &shapes {
            draw(&area, s, &col, &p)?;
        }
        area.present().map_err(|e| anyhow::anyhow!("drawing the ladder: {e:?}"))?;
    }
    let img = image::RgbImage::from_raw(w, h, rgb).expect("buffer has the image's size");
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}
