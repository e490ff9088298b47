//! The rate–quality picture: one line of rendition points per preset (or per side of a
//! policy diff), bitrate on a logarithmic x axis, quality on y. People read a curve faster
//! than a column of numbers. Plain SVG, no dependency.

use std::fmt::Write as _;

/// One line of the chart.
#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    /// (kb/s, score, rendition name), in any order.
    pub points: Vec<(f64, f64, String)>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 440.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;
const COLOURS: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"];

/// The chart as an SVG document. `metric` names the y axis (e.g. "VMAF").
pub fn svg(title: &str, metric: &str, series: &[Series]) -> String {
    let points = || series.iter().flat_map(|s| s.points.iter()).filter(|p| p.0 > 0.0);
    let (mut x_min, mut x_max) = points().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let (mut y_min, mut y_max) = points().fold((f64::MAX, f64::MIN), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    if x_min > x_max {
        (x_min, x_max, y_min, y_max) = (100.0, 10_000.0, 0.0, 100.0);
    }
    // Whole decades of bitrate; quality padded to round tens (VMAF) or fives (dB).
    let (x_lo, x_hi) = (
        10f64.powf(x_min.log10().floor()),
        10f64.powf(x_max.log10().ceil().max(x_min.log10().floor() + 1.0)),
    );
    let step = if y_max - y_min > 20.0 { 10.0 } else { 5.0 };
    let (y_lo, y_hi) = (
        (y_min / step).floor() * step,
        ((y_max / step).ceil() * step).max(y_min + step),
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |kbps: f64| LEFT + (kbps.log10() - x_lo.log10()) / (x_hi.log10() - x_lo.log10()) * plot_w;
    let y = |score: f64| TOP + (y_hi - score) / (y_hi - y_lo) * plot_h;

    let mut out = String::new();
    writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    )
    .unwrap();
    writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#).unwrap();
    writeln!(
        out,
        r#"<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{}</text>"#,
        text(title)
    )
    .unwrap();
    // Grid: each decade and its 2x and 5x on x, each step on y.
    let mut decade = x_lo;
    while decade < x_hi * 1.001 {
        for m in [1.0, 2.0, 5.0] {
            let v = decade * m;
            if v > x_hi * 1.001 {
                break;
            }
            let px = x(v);
            writeln!(
                out,
                r##"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{:.1}" stroke="#ddd"/>"##,
                TOP + plot_h
            )
            .unwrap();
            writeln!(
                out,
                r#"<text x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                TOP + plot_h + 16.0,
                kbps_label(v)
            )
            .unwrap();
        }
        decade *= 10.0;
    }
    let mut v = y_lo;
    while v <= y_hi + 1e-9 {
        let py = y(v);
        writeln!(
            out,
            r##"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}" stroke="#ddd"/>"##,
            LEFT + plot_w
        )
        .unwrap();
        writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            LEFT - 6.0,
            py + 4.0
        )
        .unwrap();
        v += step;
    }
    writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">bitrate (kb/s, log scale)</text>"#,
        LEFT + plot_w / 2.0,
        HEIGHT - 14.0
    )
    .unwrap();
    writeln!(
        out,
        r#"<text transform="translate(16 {:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
        TOP + plot_h / 2.0,
        text(metric)
    )
    .unwrap();

    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let mut sorted: Vec<_> = s.points.iter().filter(|p| p.0 > 0.0).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let path: Vec<String> = sorted.iter().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1))).collect();
        writeln!(
            out,
            r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
            path.join(" ")
        )
        .unwrap();
        for (kbps, score, name) in sorted {
            writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"><title>{}: {:.0} kb/s, {metric} {score:.2}</title></circle>"#,
                x(*kbps),
                y(*score),
                text(name),
                kbps,
                metric = text(metric)
            )
            .unwrap();
            writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}" font-size="10" fill="{colour}">{}</text>"#,
                x(*kbps) + 6.0,
                y(*score) - 6.0,
                text(name)
            )
            .unwrap();
        }
        let ly = TOP + 10.0 + i as f64 * 20.0;
        let lx = LEFT + plot_w + 16.0;
        writeln!(
            out,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{}</text>"#,
            lx + 18.0,
            lx + 24.0,
            ly + 4.0,
            text(&s.label)
        )
        .unwrap();
    }
    out.push_str("</svg>\n");
    out
}

fn kbps_label(v: f64) -> String {
    if v >= 1000.0 {
        format!("{}M", v / 1000.0)
    } else {
        format!("{v}k")
    }
}

/// Text escaped for XML.
fn text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_series_is_a_line_with_its_points_and_a_legend() {
        let series = [
            Series {
                label: "default".into(),
                points: vec![(3000.0, 95.0, "720p".into()), (800.0, 80.0, "360p".into())],
            },
            Series {
                label: "a<b".into(),
                points: vec![(2000.0, 94.0, "720p".into())],
            },
        ];
        let svg = svg("clip.mp4", "VMAF", &series);
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains(">a&lt;b</text>"), "labels are escaped");
        assert!(
            svg.contains(">100k</text>") && svg.contains(">10M</text>"),
            "whole decades around 800..3000"
        );
        // x is increasing with bitrate: the 360p point is left of the 720p one.
        let cx = |name: &str| -> f64 {
            let at = svg.find(&format!("<title>{name}: ")).unwrap();
            let circle = &svg[svg[..at].rfind("<circle").unwrap()..at];
            circle.split('"').nth(1).unwrap().parse().unwrap()
        };
        assert!(cx("360p") < cx("720p"));
        assert_balanced(&svg);
    }

    /// Well-formed enough: every element opened is closed.
    fn assert_balanced(svg: &str) {
        assert_eq!(svg.matches("<svg").count(), svg.matches("</svg>").count());
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
    }

    #[test]
    fn no_points_still_draws_axes() {
        let svg = svg("empty", "VMAF", &[]);
        assert!(svg.contains("bitrate (kb/s, log scale)"));
    }
}
